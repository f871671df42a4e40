import Profiles
import XCTest

/// serve's `labels:` as key parts: one counted cgroup part at most, the others named from it.
final class ContainerLabelsTests: XCTestCase {
  func load(_ text: String) throws -> Profile {
    try ProfileLoader(enumSource: nil).load(text: text, file: "p.yaml")
  }

  func testAOnePartKeyGainsOneCountedPartAndTwoNamedFromIt() throws {
    let profile = try load("version: 1\nname: ppid\nprobe: {syscall: getppid}\nkey: {source: comm, label: comm}\n")
    let (labelled, problem) = profile.labelled(by: [.namespace, .pod, .container])
    XCTAssertNil(problem)
    XCTAssertEqual(labelled.keyLabels, ["comm", "namespace", "pod", "container"])
    XCTAssertEqual(labelled.keyParts.map(\.source), [.comm, .namespace, .podName, .containerName])
    XCTAssertEqual(labelled.keyParts.map(\.derivedFrom), [nil, nil, 1, 1])
    XCTAssertEqual(labelled.countedKeyParts.count, 2)
    XCTAssertEqual(labelled.keyWords, 3)  // the comm's two words and one cgroup id
  }

  func testAKeyWithACgroupPartNamesTheLabelsFromIt() throws {
    let profile = try load(
      "version: 1\nname: p\nprobe: {syscall: getppid}\nkey:\n  - {source: pid, label: pid}\n  - {source: pod, label: where}\n")
    let (labelled, problem) = profile.labelled(by: [.container])
    XCTAssertNil(problem)
    XCTAssertEqual(labelled.keyParts.map(\.derivedFrom), [nil, nil, 1])
    XCTAssertEqual(labelled.keyWords, profile.keyWords)
  }

  func testAKeylessProfileIsKeyedByTheLabelsAlone() throws {
    let profile = try load("version: 1\nname: p\nprobe: {syscall: getppid}\nkey: {source: none}\n")
    let (labelled, problem) = profile.labelled(by: [.pod])
    XCTAssertNil(problem)
    XCTAssertEqual(labelled.keyLabels, ["pod"])
    XCTAssertEqual(labelled.keyWords, 1)
  }

  func testAProfileMayKeyByEachNameAlone() throws {
    let profile = try load(
      """
      version: 1
      name: p
      probe: {syscall: getppid}
      key:
        - {source: namespace}
        - {source: pod_name, label: pod}
        - {source: container_name, label: container}
      """)
    XCTAssertEqual(profile.keyParts.map(\.source), [.namespace, .podName, .containerName])
    XCTAssertEqual(profile.keyLabels, ["namespace", "pod", "container"])
  }

  func testALabelTheKeyHasOrAFullKeyIsRefused() throws {
    let podLabelled = try load("version: 1\nname: p\nprobe: {syscall: getppid}\nkey: {source: pid, label: pod}\n")
    XCTAssertEqual(podLabelled.labelled(by: [.namespace, .pod]).problem, "profile p already has a key label 'pod'")
    let full = try load(
      """
      version: 1
      name: full
      probe: {syscall: read}
      key:
        - {source: arg0, label: fd}
        - {source: pid, label: pid}
        - {source: tid, label: tid}
        - {source: comm, label: comm}
      """)
    XCTAssertEqual(
      full.labelled(by: [.pod]).problem,
      "'labels' need one more key part, a cgroup id, and profile full's key has 4 parts in 5 words: a key has at most 4 parts in 8 words")
  }
}
