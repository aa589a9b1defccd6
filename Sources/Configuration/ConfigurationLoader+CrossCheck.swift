import Foundation
import ImageReference
import Yams

extension ConfigurationLoader {
    /// Checks names against each other: unique names, and every reference names something.
    mutating func crossCheck() {
        let config = configuration
        duplicates(config.repos.map(\.name), kind: "repo")
        duplicates(config.targets.map(\.name), kind: "target")
        duplicates(config.images.map(\.name.description), kind: "image")
        let repoNames = Set(config.repos.map(\.name))
        // What Bitbucket's API has no place for: labels, and auto-merge.
        for (index, target) in config.targets.enumerated() where target.mode == .branch {
            guard config.repos.first(where: { $0.name == target.repo })?.forge?.kind == .bitbucket else { continue }
            if !target.labels.isEmpty {
                report("target:\(index)", "Bitbucket pull requests have no labels: remove mergeRequest.labels from \(target.name)")
            }
            if target.autoMerge {
                report("target:\(index)", "Bitbucket's API cannot set a pull request to merge when its checks pass: remove mergeRequest.autoMerge from \(target.name)")
            }
        }
        for (index, repository) in config.repos.enumerated() where repository.url.hasPrefix("http://") && repository.password != nil {
            let node = nodes["repo:\(index)"]
            configuration.warnings.append(
                ConfigProblem(
                    file: reader.file, line: node?.node.mark?.line ?? 1, column: node?.node.mark?.column ?? 1, keyPath: "repos[\(index)].url",
                    message: "repo \(repository.name) sends its password over plain http://: anyone on the path can read it; use https://"))
        }
        for (index, target) in config.targets.enumerated() where !repoNames.contains(target.repo) {
            let known = repoNames.isEmpty ? "add it under repos" : "known repos are \(repoNames.sorted().joined(separator: ", "))"
            report("target-repo:\(index)", "no repo is named \"\(target.repo)\"; \(known)")
        }
        // A branch target in a repository without a forge: the update branch is pushed, and no
        // merge request will ever be opened. Allowed (someone may open them by hand), but said.
        for (index, target) in config.targets.enumerated() where target.mode == .branch {
            guard let repo = config.repos.first(where: { $0.name == target.repo }), repo.forge == nil else { continue }
            let node = nodes["target:\(index)"]
            let mark = node?.node.mark
            configuration.warnings.append(
                ConfigProblem(
                    file: reader.file, line: mark?.line ?? 1, column: mark?.column ?? 1, keyPath: node?.path ?? "targets[\(index)]",
                    message:
                        "target \(target.name) is in branch mode, but repo \(repo.name) has no forge: its update branches are pushed and no merge request is opened; add repos[].forge, or use mode: commit"
                ))
        }
        let targetNames = Set(config.targets.map(\.name))
        for (index, image) in config.images.enumerated() {
            for name in image.targets where !targetNames.contains(name) {
                report(
                    "image-targets:\(index)",
                    "no target is named \"\(name)\"; known targets are \(targetNames.sorted().joined(separator: ", "))")
            }
            let ownTargets = image.targets.isEmpty ? targetNames : Set(image.targets)
            for name in image.targetPolicies.keys.sorted() where !ownTargets.contains(name) {
                report(
                    "target-policy:images[\(index)].targetPolicies.\(name)",
                    "\(image.name) does not go to a target named \"\(name)\"; its targets are \(ownTargets.sorted().joined(separator: ", "))"
                )
            }
        }
        var policyOwners: [String: ImageName] = [:]
        for (index, image) in config.images.enumerated() {
            for policy in image.fluxPolicies {
                if let owner = policyOwners[policy], owner != image.name {
                    report("image-policies:\(index)", "the Flux policy \(policy) already stands for \(owner); a policy names one image")
                }
                policyOwners[policy] = image.name
            }
        }
    }

    mutating func report(_ key: String, _ message: String) {
        reader.report(nodes[key]?.node, nodes[key]?.path ?? "", message)
    }

    private mutating func duplicates(_ names: [String], kind: String) {
        var seen: Set<String> = []
        for (index, name) in names.enumerated() where !seen.insert(name).inserted {
            report("\(kind):\(index)", "the \(kind) name \"\(name)\" is used twice; names must be unique")
        }
    }
}
