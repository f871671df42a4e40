#!/usr/bin/python3
"""What podman needs to run a DaemonSet's one container as a kubelet would, as far as podman can:
its host pid namespace, privileges (capabilities, seccomp, user, no-new-privileges, read-only
root), hostPath mounts and ConfigMap volumes (their files written under OUT/volumes), its image
and arguments. The pod's network, ports, probes, resources and tolerations stay out. A field
this does not know, in the pod, the container, a mount or its security context, stops it, so
that what the manifest adds cannot be silently left out of the test. Writes OUT/options (one
podman option per line), OUT/command (the image, then each argument) and OUT/created (the host
directories a DirectoryOrCreate volume made, for the caller to remove).
  usage: scripts/daemonset-podman.py DAEMONSET.yaml OUT"""
import os
import sys

import yaml


def fail(message):
    sys.exit(f"daemonset-podman: {message}")


# what podman cannot or need not reproduce: scheduling, the network, health, resources
IGNORED_POD = {"tolerations"}
IGNORED_CONTAINER = {"name", "imagePullPolicy", "ports", "readinessProbe", "resources"}
POD = IGNORED_POD | {"hostPID", "containers", "volumes"}
CONTAINER = IGNORED_CONTAINER | {"image", "args", "securityContext", "volumeMounts"}
MOUNT = {"name", "mountPath", "readOnly", "recursiveReadOnly"}


def known(manifest, what, fields, allowed):
    unknown = sorted(set(fields) - allowed)
    if unknown:
        fail(f"{manifest}: {what} has {', '.join(unknown)}, which this does not translate")


def main(manifest, out):
    with open(manifest) as file:
        documents = [d for d in yaml.safe_load_all(file) if d]
    config_maps = {d["metadata"]["name"]: d["data"] for d in documents if d["kind"] == "ConfigMap"}
    daemon_sets = [d for d in documents if d["kind"] == "DaemonSet"]
    if len(daemon_sets) != 1:
        fail(f"{manifest}: {len(daemon_sets)} DaemonSets, not one")
    pod = daemon_sets[0]["spec"]["template"]["spec"]
    if len(pod["containers"]) != 1:
        fail(f"{manifest}: the pod has {len(pod['containers'])} containers, not one")
    container = pod["containers"][0]
    known(manifest, "the pod", pod, POD)
    known(manifest, "the container", container, CONTAINER)
    options = ["--pid=host"] if pod.get("hostPID") else []
    security = container.get("securityContext", {})
    for key, value in security.items():
        if key == "capabilities":
            options += [f"--cap-drop={','.join(value.get('drop', []))}", f"--cap-add={','.join(value.get('add', []))}"]
        elif key == "seccompProfile" and value == {"type": "Unconfined"}:
            options.append("--security-opt=seccomp=unconfined")
        elif key == "seccompProfile" and value == {"type": "RuntimeDefault"}:
            pass
        elif key == "runAsUser":
            options.append(f"--user={value}")
        elif key == "allowPrivilegeEscalation" and value is False:
            options.append("--security-opt=no-new-privileges")
        elif key == "readOnlyRootFilesystem" and value is True:
            options += ["--read-only", "--read-only-tmpfs=false"]  # Kubernetes adds no tmpfs
        elif key == "privileged":
            options.append(f"--privileged={str(value).lower()}")
        else:
            fail(f"{manifest}: securityContext {key}: {value} has no podman equivalent here")
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    created = []
    for mount in container.get("volumeMounts", []):
        known(manifest, f"mount {mount['name']}", mount, MOUNT)
        volume = volumes[mount["name"]]
        if "hostPath" in volume:
            source = volume["hostPath"]["path"]
            if volume["hostPath"].get("type") == "DirectoryOrCreate" and not os.path.isdir(source):
                os.makedirs(source)  # as the kubelet does
                created.append(source)
        elif "configMap" in volume:
            source = os.path.join(out, "volumes", mount["name"])
            os.makedirs(source, exist_ok=True)
            for name, text in config_maps[volume["configMap"]["name"]].items():
                with open(os.path.join(source, name), "w") as file:
                    file.write(text)
        else:
            fail(f"{manifest}: volume {mount['name']} is neither a hostPath nor a ConfigMap")
        # ro makes the top mount read-only, as Kubernetes does where recursiveReadOnly is not
        # supported (its mounts below stay as they are)
        options.append(f"--volume={source}:{mount['mountPath']}:{'ro' if mount.get('readOnly') else 'rw'}")
    with open(os.path.join(out, "options"), "w") as file:
        file.write("".join(option + "\n" for option in options))
    with open(os.path.join(out, "created"), "w") as file:
        file.write("".join(path + "\n" for path in created))
    with open(os.path.join(out, "command"), "w") as file:
        file.write("".join(word + "\n" for word in [container["image"]] + container.get("args", [])))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
