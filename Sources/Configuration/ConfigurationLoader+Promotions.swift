import ImageReference
import Yams

/// Reading `promotions[]`: name, images, steps with their gates.
extension ConfigurationLoader {
    mutating func readPromotion(_ node: Node, _ path: String) {
        guard let fields = reader.mapping(node, path, known: ["name", "images", "steps", "onSmokeFailure"]) else { return }
        guard let nameNode = fields["name"]?.value, let name = reader.string(nameNode, "\(path).name") else {
            return reader.report(node, "\(path).name", "every promotion chain needs a name, e.g. api-release")
        }
        var images: [ImageName] = []
        if let list = fields["images"]?.value {
            for (index, (text, imageNode)) in reader.strings(list, "\(path).images").enumerated() {
                do {
                    images.append(try ImageName(parsing: text))
                    nodes["promotion-image:\(configuration.promotions.count):\(images.count - 1)"] = (imageNode, "\(path).images[\(index)]")
                } catch {
                    reader.report(imageNode, "\(path).images[\(index)]", "\(error.reason); name an image of images[]")
                }
            }
        }
        if images.isEmpty { reader.report(fields["images"]?.value ?? node, "\(path).images", "name the images this chain promotes") }
        var steps: [PromotionSettings.Step] = []
        if let list = fields["steps"]?.value {
            for (index, item) in reader.list(list, "\(path).steps").enumerated() {
                if let step = readStep(item, "\(path).steps[\(index)]") { steps.append(step) }
            }
        }
        if steps.count < 2 {
            reader.report(
                fields["steps"]?.value ?? node, "\(path).steps", "a chain needs at least two steps (target: dev, then target: acc…)")
        }
        var chain = PromotionSettings(name: name, images: images, steps: steps)
        if let node = fields["onSmokeFailure"]?.value, let text = reader.string(node, "\(path).onSmokeFailure") {
            if ["revert", "stop"].contains(text) {
                chain.revertOnSmokeFailure = text == "revert"
            } else {
                reader.report(node, "\(path).onSmokeFailure", "\"\(text)\" is not one of stop, revert")
            }
        }
        configuration.promotions.append(chain)
        nodes["promotion:\(configuration.promotions.count - 1)"] = (nameNode, "\(path).name")
    }

    private mutating func readStep(_ node: Node, _ path: String) -> PromotionSettings.Step? {
        guard let fields = reader.mapping(node, path, known: ["target", "gate", "gates"]) else { return nil }
        guard let targetNode = fields["target"]?.value, let target = reader.string(targetNode, "\(path).target") else {
            reader.report(node, "\(path).target", "every step names a target")
            return nil
        }
        nodes["promotion-step:\(path)"] = (targetNode, "\(path).target")
        if let single = fields["gate"]?.value, fields["gates"] != nil {
            reader.report(single, "\(path).gate", "give either gate: or gates: [...], not both")
            return nil
        }
        var gates: [PromotionSettings.Gate] = []
        if let single = fields["gate"]?.value {
            guard let gate = readGate(single, "\(path).gate") else { return nil }
            gates = [gate]
        } else if let list = fields["gates"]?.value {
            for (index, item) in reader.list(list, "\(path).gates").enumerated() {
                guard let gate = readGate(item, "\(path).gates[\(index)]") else { return nil }
                if gates.contains(gate) || (gate.isSmoke && gates.contains(where: \.isSmoke)) {
                    reader.report(item, "\(path).gates[\(index)]", "this gate is listed twice; list each gate once")
                    return nil
                }
                gates.append(gate)
            }
        }
        return PromotionSettings.Step(target: target, gates: gates.filter { $0 != .none })
    }

    /// One gate: `none`, `manual`, `merged` or `{smoke: {checks: [...]}}`.
    private mutating func readGate(_ gateNode: Node, _ path: String) -> PromotionSettings.Gate? {
        if case .scalar(let scalar) = gateNode {
            switch scalar.string {
            case "none": return PromotionSettings.Gate.none
            case "manual": return .manual
            case "merged": return .merged
            default:
                reader.report(gateNode, path, "\"\(scalar.string)\" is not a gate; use none, manual, merged or {smoke: {checks: [...]}}")
                return nil
            }
        }
        guard let gate = reader.mapping(gateNode, path, known: ["smoke"]), let smokeNode = gate["smoke"]?.value,
            let smoke = reader.mapping(smokeNode, "\(path).smoke", known: ["checks", "timeoutSeconds", "intervalSeconds"])
        else { return nil }
        var checks: [PromotionSettings.SmokeCheck] = []
        for (index, item) in reader.list(smoke["checks"]?.value ?? smokeNode, "\(path).smoke.checks").enumerated() {
            let checkPath = "\(path).smoke.checks[\(index)]"
            guard let check = reader.mapping(item, checkPath, known: ["url", "status", "bodyContains", "jsonField", "equals"]) else {
                continue
            }
            guard let urlNode = check["url"]?.value, let url = reader.string(urlNode, "\(checkPath).url") else {
                reader.report(item, "\(checkPath).url", "a smoke check needs the url to GET")
                continue
            }
            if !url.hasPrefix("http://"), !url.hasPrefix("https://") {
                reader.report(urlNode, "\(checkPath).url", "the url must start with https://")
            }
            var entry = PromotionSettings.SmokeCheck(url: url)
            if let status = check["status"], let value = reader.integer(status.value, "\(checkPath).status", minimum: 100) {
                entry.status = value
            }
            entry.bodyContains = check["bodyContains"].flatMap { reader.string($0.value, "\(checkPath).bodyContains") }
            entry.jsonField = check["jsonField"].flatMap { reader.string($0.value, "\(checkPath).jsonField") }
            if let equals = check["equals"].flatMap({ reader.string($0.value, "\(checkPath).equals") }) { entry.equals = equals }
            checks.append(entry)
        }
        if checks.isEmpty { reader.report(smokeNode, "\(path).smoke.checks", "a smoke gate needs at least one check") }
        let timeout = smoke["timeoutSeconds"].flatMap { reader.integer($0.value, "\(path).smoke.timeoutSeconds", minimum: 0) } ?? 300
        let interval = smoke["intervalSeconds"].flatMap { reader.integer($0.value, "\(path).smoke.intervalSeconds", minimum: 1) } ?? 5
        return .smoke(checks: checks, timeoutSeconds: timeout, intervalSeconds: interval)
    }

    /// Every step names a target the chain's images go to; a merged gate needs a `branch` target,
    /// and a `branch` target's step gets one when it lists none (the tag is in that environment
    /// only once its merge request is merged); no target is promoted to by two chains for one image.
    mutating func crossCheckPromotions() {
        let targets = Dictionary(configuration.targets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let repos = Dictionary(configuration.repos.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let imageNames = Set(configuration.images.map(\.name))
        var promoted: [String: String] = [:]
        for (chainIndex, chain) in configuration.promotions.enumerated() {
            for (index, image) in chain.images.enumerated() where !imageNames.contains(image) {
                report(
                    "promotion-image:\(chainIndex):\(index)",
                    "\(image) is not in images[]: no event for it is taken, so this chain never starts; add it to images")
            }
            for (index, step) in chain.steps.enumerated() {
                let key = "promotion-step:promotions[\(chainIndex)].steps[\(index)]"
                guard let target = targets[step.target] else {
                    report(key, "no target is named \"\(step.target)\"; known targets are \(targets.keys.sorted().joined(separator: ", "))")
                    continue
                }
                if step.gates.contains(.merged), target.mode != .branch {
                    report(key, "a merged gate waits for a merge request: \(step.target) must have mode: branch")
                } else if step.gates.contains(.merged), repos[target.repo].map({ $0.forge == nil }) == true {
                    report(
                        key,
                        "a merged gate waits for a merge request, and repo \(target.repo) has no forge to open one on: add repos[].forge, or drop the gate")
                }
                if step.gates.contains(.manual), configuration.server.admin.token == nil {
                    report(
                        key,
                        "a manual gate is approved with imagebump promotions approve (POST /v1/promotions/ID/approve), which needs server.admin.token; set it")
                }
                if target.mode == .branch, !step.gates.contains(.merged) {
                    let at = step.gates.firstIndex(where: \.isSmoke) ?? step.gates.count
                    configuration.promotions[chainIndex].steps[index].gates.insert(.merged, at: at)
                }
                for image in chain.images where !configuration.targets(for: image).contains(where: { $0.name == step.target }) {
                    report(key, "\(image) does not go to \(step.target); add it to that image's targets")
                }
                for image in chain.images where index > 0 {
                    if let other = promoted["\(image) \(step.target)"], other != chain.name {
                        report(key, "\(image) is already promoted to \(step.target) by the chain \(other)")
                    }
                    promoted["\(image) \(step.target)"] = chain.name
                }
            }
        }
    }
}
