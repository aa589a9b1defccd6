#!/usr/bin/env python3
"""Builds real OCI images in a layout with umoci, for tests that push them with skopeo.

  oci-image.py single LAYOUT NAME LABEL      one image (linux/amd64); prints its manifest digest
  oci-image.py multi LAYOUT NAME LABEL       an index of linux/amd64 and linux/arm64 images;
                                             prints the index digest, then each child's digest

LABEL goes into the image config, so every call makes images with new digests. The index of
`multi` is written as a blob of the layout and named NAME in its index.json, so that
`skopeo copy --all oci:LAYOUT:NAME docker://…` pushes the children by digest, then the index
with its tag — what a multi-arch build pushes.
"""
import hashlib
import json
import os
import subprocess
import sys


def umoci(*arguments):
    subprocess.run(["umoci", *arguments], check=True, stdout=subprocess.DEVNULL)


def index(layout):
    with open(os.path.join(layout, "index.json")) as file:
        return json.load(file)


def descriptor(layout, name):
    for entry in index(layout)["manifests"]:
        if entry.get("annotations", {}).get("org.opencontainers.image.ref.name") == name:
            return entry
    raise SystemExit(f"no image {name} in {layout}")


def image(layout, name, label, arch):
    if not os.path.exists(os.path.join(layout, "index.json")):
        umoci("init", "--layout", layout)
    umoci("new", "--image", f"{layout}:{name}")
    umoci("config", "--image", f"{layout}:{name}", "--config.label", f"test={label}", "--architecture", arch, "--os", "linux")
    return descriptor(layout, name)


def main():
    mode, layout, name, label = sys.argv[1:5]
    if mode == "single":
        print(image(layout, name, label, "amd64")["digest"])
        return
    children = []
    for arch in ("amd64", "arm64"):
        child = dict(image(layout, f"{name}-{arch}", label, arch))
        child.pop("annotations", None)
        child["platform"] = {"architecture": arch, "os": "linux"}
        children.append(child)
    body = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": children},
        separators=(",", ":")).encode()
    digest = hashlib.sha256(body).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as file:
        file.write(body)
    top = index(layout)
    top["manifests"] = [m for m in top["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != name]
    top["manifests"].append({
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": f"sha256:{digest}", "size": len(body),
        "annotations": {"org.opencontainers.image.ref.name": name}})
    with open(os.path.join(layout, "index.json"), "w") as file:
        json.dump(top, file)
    print(f"sha256:{digest}")
    for child in children:
        print(child["digest"])


main()
