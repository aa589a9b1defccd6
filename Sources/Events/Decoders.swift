import Crypto
import Foundation
import ImageReference

/// The kinds of sender imagebump receives from.
public enum ReceiverType: String, Sendable, Hashable, CaseIterable {
    case dockerhub, harbor, quay, distribution, github, gitea, gitlab, acr, artifactory, nexus, gcr, ecr, generic

    /// Senders that cannot sign: their secret is a token in the receiver's URL (`/hooks/NAME/TOKEN`).
    public var usesPathToken: Bool { self == .dockerhub || self == .quay }
}

/// Turns a sender's delivery into image events. Pure: headers and bytes in.
public enum DeliveryDecoder {
    /// `headers` are lowercased names.
    public static func decode(_ type: ReceiverType, headers: [String: String], body: [UInt8], context: ReceiverContext = ReceiverContext())
        throws(PayloadError) -> DecodedDelivery
    {
        // Delivery ids of the senders that send one. `X-Request-Id` is not among them: an ingress
        // (ingress-nginx, Envoy) adds one to every request, and it says nothing about the events.
        let delivery =
            headers["x-github-delivery"] ?? headers["x-gitea-delivery"] ?? headers["x-forgejo-delivery"] ?? headers[
                "x-nexus-webhook-delivery"]
        if let notice = try MergeNotice.decode(type, headers: headers, body: body) { return notice }
        var builder = Builder(source: type.rawValue, headerDelivery: delivery, body: type == .generic ? nil : body)
        switch type {
        case .dockerhub: try dockerHub(body, &builder)
        case .harbor: try harbor(body, &builder)
        case .quay: try quay(body, &builder)
        case .distribution: try distribution(body, context, &builder)
        case .gitlab:
            // GitLab has no registry webhook: its bundled registry sends distribution envelopes;
            // CI jobs may post the generic form with X-Gitlab-Token.
            let object = try Payload.object(body)
            if object["events"] != nil { try distribution(body, context, &builder) } else { try generic(object, &builder) }
        case .github: try github(body, headers, &builder)
        case .gitea: try gitea(body, headers, &builder)
        case .acr: try acr(body, &builder)
        case .artifactory: try artifactory(body, &builder)
        case .nexus: try nexus(body, headers, context, &builder)
        case .gcr: try gcr(body, &builder)
        case .ecr: try ecr(body, &builder)
        case .generic: try generic(try Payload.object(body), &builder)
        }
        return builder.result
    }

    /// Collects accepted events and the reasons others were passed over.
    struct Builder {
        let source: String
        /// The sender's delivery header, if it sends one.
        let headerDelivery: String?
        /// For senders that name no delivery, the body, whose hash identifies it (a replay is the
        /// same bytes; a new push differs in its time, tag or digest — or changes nothing). Nil
        /// for CI's generic posts, where posting the same release again is a request to run it.
        let body: [UInt8]?
        var events: [ImageEvent] = []
        var ignored: [String] = []
        private var bodyHash: String?

        init(source: String, headerDelivery: String?, body: [UInt8]?) {
            self.source = source
            self.headerDelivery = headerDelivery
            self.body = body
        }

        /// The delivery id of an event without one of its own: the header's, else the body's
        /// hash — computed only when needed (an envelope's events all carry their ids).
        mutating func deliveryID() -> String? {
            if let headerDelivery { return headerDelivery }
            guard let body else { return nil }
            if bodyHash == nil { bodyHash = "sha256:" + HMAC.hex(HMAC.digest(body)) }
            return bodyHash
        }

        /// `deliveryID` names this event where the payload gives each event an id of its own
        /// (an envelope's events); `pushedAt` is the sender's push time.
        mutating func accept(
            registry: String?, repository: String?, tag: String?, digest: String?, deliveryID eventID: String? = nil, pushedAt: Int64? = nil
        ) {
            guard let registry, let repository else { return ignore("the payload names no registry or repository") }
            let tag = Payload.tag(tag)
            let digest = Payload.digest(digest)
            guard tag != nil || digest != nil else {
                return ignore("\(registry)/\(repository): no tag and no valid digest, nothing addressable")
            }
            let event = ImageEvent(
                registry: registry, repository: repository.lowercased(), tag: tag, digest: digest, source: source,
                deliveryID: eventID ?? deliveryID(), pushedAtMilliseconds: pushedAt)
            guard event.image != nil else { return ignore("\(registry)/\(repository) is not a valid image name") }
            events.append(event)
        }

        /// An image push whose name is parsed already (the generic receiver's `image`).
        mutating func accept(image: ImageName, tag: String?, digest: String?) {
            let tag = Payload.tag(tag)
            let digest = Payload.digest(digest)
            guard tag != nil || digest != nil else { return ignore("\(image): no tag and no valid digest, nothing addressable") }
            events.append(ImageEvent(image: image, tag: tag, digest: digest, source: source, deliveryID: deliveryID()))
        }

        mutating func ignore(_ reason: String) { ignored.append(reason) }

        var result: DecodedDelivery {
            events.isEmpty ? .ignored(ignored.isEmpty ? "nothing to do" : ignored.joined(separator: "; ")) : .accepted(events)
        }
    }

    // MARK: - Senders

    static func dockerHub(_ body: [UInt8], _ builder: inout Builder) throws(PayloadError) {
        let object = try Payload.object(body)
        guard let name = Payload.string(Payload.dictionary(object["repository"])["repo_name"]) else {
            throw PayloadError(.unexpectedShape, "repository.repo_name is missing")
        }
        builder.accept(
            registry: "docker.io", repository: name.contains("/") ? name : "library/\(name)",
            tag: Payload.string(Payload.dictionary(object["push_data"])["tag"]), digest: nil,
            pushedAt: Payload.time(Payload.dictionary(object["push_data"])["pushed_at"]))
    }

    static func harbor(_ body: [UInt8], _ builder: inout Builder) throws(PayloadError) {
        let object = try Payload.object(body)
        let type = Payload.string(object["type"]) ?? ""
        let pushTypes = ["PUSH_ARTIFACT", "pushImage", "harbor.artifact.pushed"]
        guard pushTypes.contains(type) || type.hasPrefix("dev.cdevents.artifact.published") else {
            return builder.ignore("Harbor event \(type) is not a push")
        }
        var data = Payload.dictionary(object["event_data"] ?? object["data"])
        if data["resources"] == nil { data = Payload.dictionary(data["customData"]) }  // CDEvents
        let repository = Payload.string(Payload.dictionary(data["repository"])["repo_full_name"])
        let pushedAt = Payload.time(object["occur_at"]) ?? Payload.time(object["time"])
        // CloudEvents carry an event id; Harbor's own format none.
        let eventID = Payload.string(object["specversion"]) != nil ? Payload.string(object["id"]) : nil
        for case let resource as [String: Any] in data["resources"] as? [Any] ?? [] {
            let url = Payload.string(resource["resource_url"]) ?? ""
            let host = url.split(separator: "/").first.map(String.init)
            let digest = Payload.string(resource["digest"])
            let tag = Payload.string(resource["tag"])
            builder.accept(
                registry: host, repository: repository ?? Self.path(ofReference: url), tag: tag == digest ? nil : tag, digest: digest,
                deliveryID: eventID, pushedAt: pushedAt)
        }
    }

    /// `host/a/b:tag@digest` → `a/b`.
    static func path(ofReference reference: String) -> String? {
        guard let slash = reference.firstIndex(of: "/") else { return nil }
        var path = reference[reference.index(after: slash)...]
        if let at = path.firstIndex(of: "@") { path = path[..<at] }
        if let colon = path.lastIndex(of: ":"), !path[colon...].contains("/") { path = path[..<colon] }
        return String(path)
    }

    static func quay(_ body: [UInt8], _ builder: inout Builder) throws(PayloadError) {
        let object = try Payload.object(body)
        guard let url = Payload.string(object["docker_url"]), let slash = url.firstIndex(of: "/") else {
            throw PayloadError(.unexpectedShape, "docker_url is missing")
        }
        let host = String(url[..<slash])
        let path = String(url[url.index(after: slash)...])
        // A list of tags today; an object tag → image id in the 2013 format.
        let tags = (object["updated_tags"] as? [String]) ?? (object["updated_tags"] as? [String: Any]).map { Array($0.keys).sorted() } ?? []
        if tags.isEmpty { builder.ignore("no updated_tags") }
        for tag in tags { builder.accept(registry: host, repository: path, tag: tag, digest: nil) }
    }

    static let manifestTypes: Set<String> = [
        "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v1+prettyjws", "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
    ]

    static func distribution(_ body: [UInt8], _ context: ReceiverContext, _ builder: inout Builder) throws(PayloadError) {
        let object = try Payload.object(body)
        guard let events = object["events"] as? [Any] else { throw PayloadError(.unexpectedShape, "not a notification envelope: events is missing") }
        for case let event as [String: Any] in events {
            let action = Payload.string(event["action"]) ?? ""
            let target = Payload.dictionary(event["target"])
            guard action == "push" else {
                builder.ignore("action \(action) is not a push")
                continue
            }
            guard let mediaType = Payload.string(target["mediaType"]), manifestTypes.contains(mediaType) else {
                builder.ignore("a blob, not a manifest (\(Payload.string(target["mediaType"]) ?? "no media type"))")
                continue
            }
            let host = context.registryHost ?? Payload.string(Payload.dictionary(event["request"])["host"])
            // Each event of an envelope has its own id: the delivery id of that event.
            builder.accept(
                registry: host, repository: Payload.string(target["repository"]), tag: Payload.string(target["tag"]),
                digest: Payload.string(target["digest"]), deliveryID: Payload.string(event["id"]),
                pushedAt: Payload.time(event["timestamp"]))
        }
    }

    /// GitHub `package` / `registry_package`: container packages published or updated.
    /// Decision: an image is a package whose `package_type` or `registry.type` is
    /// container/docker. GitHub's own examples say `package_type: npm` and `ecosystem: docker`
    /// for both a container and an npm package; only `registry.type` (`CONTAINER` / `npm`) tells
    /// them apart, so `ecosystem` is not used.
    static func github(_ body: [UInt8], _ headers: [String: String], _ builder: inout Builder) throws(PayloadError) {
        let event = headers["x-github-event"] ?? ""
        if event == "ping" { return builder.ignore("ping") }
        guard event == "package" || event == "registry_package" else {
            return builder.ignore("GitHub event \(event) is not a package event")
        }
        let object = try Payload.object(body)
        let action = Payload.string(object["action"]) ?? ""
        guard action == "published" || action == "updated" else {
            return builder.ignore("package action \(action) is not published or updated")
        }
        let package = Payload.dictionary(object["package"] ?? object["registry_package"])
        let kinds = [Payload.string(package["package_type"]), Payload.string(Payload.dictionary(package["registry"])["type"])].compactMap {
            $0?.lowercased()
        }
        guard kinds.contains(where: { $0 == "container" || $0 == "docker" }) else {
            return builder.ignore("package type \(kinds.joined(separator: "/")) is not a container image")
        }
        let version = Payload.dictionary(package["package_version"])
        var registry = "ghcr.io"
        var repository: String?
        if let url = Payload.string(version["package_url"]) {
            var reference = url.hasSuffix(":") ? String(url.dropLast()) : url
            if let at = reference.firstIndex(of: "@") { reference = String(reference[..<at]) }
            if let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") { reference = String(reference[..<colon]) }
            registry = String(reference.prefix { $0 != "/" })
            repository = Self.path(ofReference: reference)
        } else if let registryURL = Payload.string(Payload.dictionary(package["registry"])["url"]),
            let host = Payload.host(ofURL: registryURL),
            host == "docker.pkg.github.com", let name = Payload.string(package["name"])
        {
            // Legacy GitHub Packages Docker registry: OWNER/REPO/IMAGE.
            registry = host
            repository = (URLComponents(string: registryURL)?.path.dropFirst()).map { "\($0)/\(name)" }
        } else if let name = Payload.string(package["name"]) {
            let owner = Payload.string(Payload.dictionary(package["owner"])["login"]) ?? Payload.string(package["namespace"])
            repository = owner.map { "\($0)/\(name)" }
        }
        let metadata = Payload.dictionary(version["container_metadata"])
        let tagName = Payload.string(Payload.dictionary(metadata["tag"])["name"])
        let versionName = Payload.string(version["name"]) ?? Payload.string(version["version"])
        let tag = tagName ?? (versionName?.hasPrefix("sha256:") == false ? Payload.string(version["version"]) : nil)
        builder.accept(
            registry: registry, repository: repository?.lowercased(), tag: tag, digest: versionName,
            pushedAt: Payload.time(version["updated_at"]) ?? Payload.time(version["created_at"]) ?? Payload.time(package["updated_at"]))
    }

    static func gitea(_ body: [UInt8], _ headers: [String: String], _ builder: inout Builder) throws(PayloadError) {
        let event = headers["x-gitea-event"] ?? headers["x-forgejo-event"] ?? headers["x-gogs-event"] ?? "package"
        guard event == "package" else { return builder.ignore("Gitea event \(event) is not a package event") }
        let object = try Payload.object(body)
        guard Payload.string(object["action"]) == "created" else {
            return builder.ignore("package action \(Payload.string(object["action"]) ?? "") is not created")
        }
        let package = Payload.dictionary(object["package"])
        guard Payload.string(package["type"]) == "container" else {
            return builder.ignore("package type \(Payload.string(package["type"]) ?? "") is not container")
        }
        let owner =
            Payload.string(Payload.dictionary(package["owner"])["login"])
            ?? Payload.string(Payload.dictionary(package["owner"])["username"])
        let version = Payload.string(package["version"])
        let isDigest = version?.hasPrefix("sha256:") == true
        builder.accept(
            registry: Payload.host(ofURL: Payload.string(package["html_url"])),
            repository: owner.flatMap { o in Payload.string(package["name"]).map { "\(o)/\($0)" } },
            tag: isDigest ? nil : version, digest: isDigest ? version : nil, pushedAt: Payload.time(package["created_at"]))
    }

    static func acr(_ body: [UInt8], _ builder: inout Builder) throws(PayloadError) {
        let object = try Payload.object(body)
        let action = Payload.string(object["action"]) ?? ""
        guard action == "push" else { return builder.ignore("ACR action \(action) is not an image push") }
        let target = Payload.dictionary(object["target"])
        builder.accept(
            registry: Payload.string(Payload.dictionary(object["request"])["host"]), repository: Payload.string(target["repository"]),
            tag: Payload.string(target["tag"]), digest: Payload.string(target["digest"]), deliveryID: Payload.string(object["id"]),
            pushedAt: Payload.time(object["timestamp"]))
    }

    static func artifactory(_ body: [UInt8], _ builder: inout Builder) throws(PayloadError) {
        let object = try Payload.object(body)
        guard let domain = Payload.string(object["domain"]), let event = Payload.string(object["event_type"]) else {
            throw PayloadError(.unexpectedShape, "not an Artifactory event: domain and event_type are missing")
        }
        guard domain == "docker", event == "pushed" else { return builder.ignore("Artifactory \(domain)/\(event) is not a docker push") }
        let data = Payload.dictionary(object["data"])
        let segments = (Payload.string(data["path"]) ?? "").split(separator: "/").dropLast(2)
        let repository = Payload.string(data["repo_key"]).map { ([$0] + segments.map(String.init)).joined(separator: "/") }
        builder.accept(
            registry: Payload.host(ofURL: Payload.string(object["jpd_origin"])), repository: repository, tag: Payload.string(data["tag"]),
            digest: Payload.string(data["sha256"]).map { "sha256:\($0)" })
    }

    static func nexus(_ body: [UInt8], _ headers: [String: String], _ context: ReceiverContext, _ builder: inout Builder)
        throws(PayloadError)
    {
        let hook = headers["x-nexus-webhook-id"] ?? "rm:repository:component"
        guard hook == "rm:repository:component" else { return builder.ignore("Nexus webhook \(hook) is not a component event") }
        let object = try Payload.object(body)
        guard ["CREATED", "UPDATED"].contains(Payload.string(object["action"]) ?? "") else {
            return builder.ignore("Nexus action \(Payload.string(object["action"]) ?? "") is not a push")
        }
        let component = Payload.dictionary(object["component"])
        guard Payload.string(component["format"]) == "docker" else {
            return builder.ignore("Nexus format \(Payload.string(component["format"]) ?? "") is not docker")
        }
        let repositoryName = Payload.string(object["repositoryName"]) ?? ""
        guard let host = context.nexusHosts[repositoryName] ?? context.registryHost else {
            return builder.ignore("the Nexus repository \(repositoryName) has no registry host configured (receivers[].nexusHosts)")
        }
        builder.accept(
            registry: host, repository: Payload.string(component["name"]), tag: Payload.string(component["version"]), digest: nil,
            pushedAt: Payload.time(object["timestamp"]))
    }

    static func gcr(_ body: [UInt8], _ builder: inout Builder) throws(PayloadError) {
        let wrapper = try Payload.firstObject(body)
        var message = wrapper
        if let data = Payload.string(Payload.dictionary(wrapper["message"])["data"]) {
            guard let decoded = Data(base64Encoded: data) else { throw PayloadError(.invalidValue, "message.data is not base64") }
            message = try Payload.firstObject(Array(decoded))
        }
        let action = Payload.string(message["action"]) ?? ""
        guard action == "INSERT" else { return builder.ignore("GCR action \(action) is not INSERT") }
        let reference = Payload.string(message["tag"]) ?? Payload.string(message["digest"]) ?? ""
        let host = reference.split(separator: "/").first.map(String.init)
        var tag: String?
        if let tagged = Payload.string(message["tag"]), let colon = tagged.lastIndex(of: ":"), !tagged[colon...].contains("/") {
            tag = String(tagged[tagged.index(after: colon)...])
        }
        let digest = Payload.string(message["digest"]).flatMap { pinned in
            pinned.firstIndex(of: "@").map { String(pinned[pinned.index(after: $0)...]) }
        }
        // A Pub/Sub push names its message: the delivery id, and when it was published.
        let pubsub = Payload.dictionary(wrapper["message"])
        builder.accept(
            registry: host, repository: Self.path(ofReference: reference), tag: tag, digest: digest,
            deliveryID: Payload.string(pubsub["messageId"]) ?? Payload.string(pubsub["message_id"]),
            pushedAt: Payload.time(pubsub["publishTime"]) ?? Payload.time(pubsub["publish_time"]))
    }

    static func ecr(_ body: [UInt8], _ builder: inout Builder) throws(PayloadError) {
        let object = try Payload.object(body)
        guard Payload.string(object["detail-type"]) == "ECR Image Action" else {
            return builder.ignore("EventBridge \(Payload.string(object["detail-type"]) ?? "") is not an ECR image action")
        }
        let detail = Payload.dictionary(object["detail"])
        guard Payload.string(detail["action-type"]) == "PUSH", Payload.string(detail["result"]) == "SUCCESS" else {
            return builder.ignore(
                "ECR \(Payload.string(detail["action-type"]) ?? "") \(Payload.string(detail["result"]) ?? "") is not a successful push")
        }
        let host = Payload.string(object["account"]).flatMap { account in
            Payload.string(object["region"]).map { "\(account).dkr.ecr.\($0).amazonaws.com" }
        }
        builder.accept(
            registry: host, repository: Payload.string(detail["repository-name"]), tag: Payload.string(detail["image-tag"]),
            digest: Payload.string(detail["image-digest"]), deliveryID: Payload.string(object["id"]), pushedAt: Payload.time(object["time"]))
    }

    /// `{"image": "ghcr.io/acme/api", "tag": "1.4.2", "digest": "sha256:…"}` or `{"image": "ghcr.io/acme/api:1.4.2"}`.
    static func generic(_ object: [String: Any], _ builder: inout Builder) throws(PayloadError) {
        // A CI script's mistake ({"tag": 1.4}) is a 400 naming the field, never a silent ignore.
        for field in ["image", "tag", "digest"] where object[field] != nil && !(object[field] is String) {
            throw PayloadError(.invalidValue, "\(field) must be a string (write \"\(field)\": \"…\", quoted)")
        }
        // An empty value is a CI variable that was not set, not a request to leave it out.
        for field in ["image", "tag", "digest"] where (object[field] as? String)?.isEmpty == true {
            throw PayloadError(.invalidValue, "\(field) is empty (a CI variable that was not set?); give it, or leave the field out")
        }
        guard let text = Payload.string(object["image"]) else {
            throw PayloadError(.unexpectedShape, "image is missing; send {\"image\": \"ghcr.io/acme/api\", \"tag\": \"1.4.2\"}")
        }
        let reference: ImageReference
        do { reference = try ImageReference(parsing: text) } catch { throw PayloadError(.invalidValue, error.description, underlying: error) }
        let tag = Payload.string(object["tag"]) ?? reference.tag
        if let tag, !ImageReference.isValidTag(tag) { throw PayloadError(.invalidValue, "the tag \"\(tag)\" is not valid") }
        let digest = Payload.string(object["digest"]) ?? reference.digest?.description
        if let digest, Payload.digest(digest) == nil { throw PayloadError(.invalidValue, "the digest \"\(digest)\" is not valid") }
        builder.accept(image: reference.name, tag: tag, digest: digest)
    }
}
