#!/usr/bin/env python3
"""An independent reading of a directory's image references with PyYAML, written from the
README's "What it finds" and not from imagebump's code: CorpusTests compares imagebump's scan
with it, before and after bumping every image.

Prints one JSON object per line: {"file", "line", "kind", "image", "tag", "digest", "tagType"}
for each reference ("line": the tag's line, else the digest's, else the name's; "tagType": the
YAML 1.1 type PyYAML's SafeLoader gives the tag's scalar — "str" unless written ambiguously),
and {"skipped": FILE} for each YAML file PyYAML cannot read and each chart template (`{{ }}`
under `templates/`).
"""
import json
import os
import re
import sys

import yaml

NAME = r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
REFERENCE = re.compile(r"^(?P<name>" + NAME + r")(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$")
STR = "tag:yaml.org,2002:str"


def normalise(name):
    parts = name.split("/")
    if len(parts) == 1 or not ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = ["docker.io"] + parts
    if parts[0] == "index.docker.io":
        parts[0] = "docker.io"
    if parts[0] == "docker.io" and len(parts) == 2:
        parts.insert(1, "library")
    return "/".join(parts)


def text(node):
    """A scalar's text, or None for anything else, null and block scalars (never references)."""
    if not isinstance(node, yaml.ScalarNode) or node.style in ("|", ">"):
        return None
    if node.style is None and node.value in ("", "~", "null", "Null", "NULL"):
        return None
    return node.value


def type_of(node):
    if node.style is not None:
        return "str"
    resolved = yaml.SafeLoader.resolve(yaml.SafeLoader, yaml.ScalarNode, node.value, (True, False))
    return "str" if resolved == STR else resolved.rsplit(":", 1)[-1]


class Reader:
    def __init__(self, file, offset=0):
        self.file, self.offset, self.found, self.seen = file, offset, [], set()

    def record(self, kind, name, tag=None, digest=None, name_node=None, tag_node=None, digest_node=None):
        at = tag_node if tag is not None else (digest_node if digest is not None else name_node)
        self.found.append({
            "file": self.file, "line": at.start_mark.line + 1 + self.offset, "kind": kind, "image": normalise(name),
            "tag": tag, "digest": digest, "tagType": type_of(tag_node) if tag is not None else None,
        })

    def walk(self, node):
        if id(node) in self.seen:
            return  # an alias: its anchor was read already
        self.seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            for item in node.value:
                self.walk(item)
        elif isinstance(node, yaml.MappingNode):
            fields = {key.value: value for key, value in node.value if isinstance(key, yaml.ScalarNode)}
            self.mapping(fields)
            for _, value in node.value:
                self.walk(value)

    def mapping(self, fields):
        image = fields.get("image")
        value = text(image) if image is not None else None
        if value is not None:
            match = REFERENCE.match(value)
            if match:
                self.record("image", match["name"], match["tag"], match["digest"], image, image, image)
        repository = text(fields["repository"]) if "repository" in fields else None
        if repository is not None:
            registry = text(fields["registry"]) if "registry" in fields else None
            name = f"{registry}/{repository}" if registry else repository
            if re.fullmatch(NAME, name):
                tag, digest = [text(fields[key]) if key in fields else None for key in ("tag", "digest")]
                self.record("helm-values", name, tag or None, digest or None, fields["repository"],
                            fields.get("tag"), fields.get("digest"))
        images = fields.get("images")
        if isinstance(images, yaml.SequenceNode):
            for entry in images.value:
                if isinstance(entry, yaml.MappingNode):
                    self.kustomize_entry({key.value: value for key, value in entry.value})
                elif text(entry) is not None:
                    self.kustomize_string(entry)
        helm = fields.get("helm")
        if isinstance(helm, yaml.MappingNode):
            self.helm({key.value: value for key, value in helm.value})

    def kustomize_entry(self, entry):
        name_node = entry.get("newName") or entry.get("name")
        if name_node is None or text(name_node) is None or not re.fullmatch(NAME, text(name_node)):
            return
        tag, digest = [text(entry[key]) if key in entry else None for key in ("newTag", "digest")]
        self.record("kustomize", text(name_node), tag, digest, entry.get("name"), entry.get("newTag"), entry.get("digest"))

    def kustomize_string(self, node):
        value = text(node).split("=", 1)[-1]
        match = REFERENCE.match(value)
        if match:
            self.record("kustomize", match["name"], match["tag"], match["digest"], node, node, node)

    def helm(self, helm):
        parameters = helm.get("parameters")
        if isinstance(parameters, yaml.SequenceNode):
            groups = {}
            for parameter in parameters.value:
                if not isinstance(parameter, yaml.MappingNode):
                    continue
                fields = {key.value: value for key, value in parameter.value}
                if "name" in fields and "value" in fields and "." in fields["name"].value:
                    prefix, field = fields["name"].value.rsplit(".", 1)
                    groups.setdefault(prefix, {})[field] = fields["value"]
            for group in groups.values():
                name = group.get("repository") or (group.get("name") if "tag" in group or "digest" in group else None)
                if name is None:
                    continue
                full = f"{group['registry'].value}/{name.value}" if "registry" in group else name.value
                tag, digest = [text(group[key]) if key in group else None for key in ("tag", "digest")]
                self.record("argocd-parameters", full, tag, digest, name, group.get("tag"), group.get("digest"))
        values = helm.get("values")
        if isinstance(values, yaml.ScalarNode) and values.style == "|":
            nested = Reader(self.file, self.offset + values.start_mark.line + 1)
            for document in yaml.compose_all(values.value, Loader=yaml.SafeLoader):
                nested.walk(document)
            self.found += nested.found


def main(root):
    for directory, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if not name.endswith((".yaml", ".yml")):
                continue
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root)
            reader = Reader(relative)
            with open(path, encoding="utf-8") as handle:
                if "templates" in relative.split(os.sep) and "{{" in handle.read():
                    print(json.dumps({"skipped": relative}))  # a chart's template: not YAML until Helm ran
                    continue
            try:
                with open(path, encoding="utf-8") as handle:
                    for document in yaml.compose_all(handle, Loader=yaml.SafeLoader):
                        if document is not None:
                            reader.walk(document)
            except yaml.YAMLError:
                print(json.dumps({"skipped": relative}))
                continue
            for reference in reader.found:
                print(json.dumps(reference, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1])
