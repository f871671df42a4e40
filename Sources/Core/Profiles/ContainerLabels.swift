/// serve's `labels:`: each call's namespace, pod and container, as Prometheus' Kubernetes
/// metrics name them (`namespace="default", pod="web-1", container="nginx"`), added to a
/// profile's key without a profile of its own.
public enum ContainerLabel: String, CaseIterable, Sendable {
  case namespace, pod, container

  var source: Profile.KeySource {
    switch self {
    case .namespace: return .namespace
    case .pod: return .podName
    case .container: return .containerName
    }
  }
}

extension Profile {
  /// The profile with `labels` as further key parts. The kernel counts one cgroup id for all of
  /// them (the key's own cgroup, container or pod part if it has one), so they cost one word
  /// and one helper call at most; the others are named from it. The problem, if any.
  public func labelled(by labels: [ContainerLabel]) -> (profile: Profile, problem: String?) {
    var labelled = self
    if !hasKeyParts {
      labelled.keyParts = keySource == .none ? [] : [KeyPart(source: keySource, label: keyLabel, decoding: decoding)]
      labelled.keySource = .none
    }
    if let taken = labels.first(where: { labelled.keyLabels.contains($0.rawValue) }) {
      return (self, "profile \(name) already has a key label '\(taken.rawValue)'")
    }
    // a profile's own parts are all counted, so the one new counted part still ends the prefix
    // of counted parts the kernel is given
    var base = labelled.keyParts.firstIndex { $0.source == .cgroup || $0.source.namesContainers }
    for label in labels {
      var part = KeyPart(source: label.source, label: label.rawValue)
      if let base {
        part.derivedFrom = base
      } else {
        base = labelled.keyParts.count
      }
      labelled.keyParts.append(part)
    }
    if labelled.countedKeyParts.count > KeyPart.maxParts || labelled.keyWords > KeyPart.maxWords {
      let parts = hasKeyParts ? keyParts.count : 1
      return (
        self,
        "'labels' need one more key part, a cgroup id, and profile \(name)'s key has \(parts) part\(parts == 1 ? "" : "s") in \(keyWords) words: a key has at most \(KeyPart.maxParts) parts in \(KeyPart.maxWords) words"
      )
    }
    return (labelled, nil)
  }
}
