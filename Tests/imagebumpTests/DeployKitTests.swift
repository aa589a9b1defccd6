import Foundation
import TestSupport
import Testing
import Yams

extension HeavyPeers {
    /// `deploy/kubernetes/base`: built with `kubectl kustomize`, validated against Kubernetes 1.32's
    /// schemas with `kubernetes-validate --strict`, and read for what an operator relies on.
    @Suite struct DeployKitTests {
        static let base = PythonTools.root.appendingPathComponent("deploy/kubernetes/base")
        static let highlyAvailable = PythonTools.root.appendingPathComponent("deploy/kubernetes/ha")

        static func built(_ kit: URL = base) async throws -> (text: String, resources: [[String: Any]]) {
            let kubectl = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "kubectl"
            let text = try await Command.succeeding(kubectl, ["kustomize", kit.path])
            let resources = try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
            return (text, resources)
        }

        /// `kubernetes-validate --strict` against Kubernetes 1.32's schemas.
        static func validate(_ text: String) async throws {
            let file = try TemporaryDirectory.make("imagebump-kit").appendingPathComponent("kit.yaml")
            try text.write(to: file, atomically: true, encoding: .utf8)
            let result = try await Command.running(try PythonTools.program("kubernetes-validate"), ["-k", "1.32.0", "--strict", "--quiet", file.path])
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        }

        @Test func itBuildsAndValidatesAgainstKubernetesSchemas() async throws {
            let (text, resources) = try await Self.built()
            #expect(Set(resources.compactMap { $0["kind"] as? String }) == [
                "ServiceAccount", "ConfigMap", "Service", "PersistentVolumeClaim", "Deployment", "Ingress", "NetworkPolicy",
            ])
            try await Self.validate(text)
        }

        static func value(_ object: Any?, _ path: String) -> Any? {
            path.split(separator: ".").reduce(object) { current, key in
                if let index = Int(key) { return (current as? [Any]).flatMap { index < $0.count ? $0[index] : nil } }
                return (current as? [String: Any])?[String(key)]
            }
        }

        @Test func theDeploymentRunsOneHardenedReplicaOnItsVolume() async throws {
            let (_, resources) = try await Self.built()
            let value = Self.value
            let deployment = try #require(resources.first { $0["kind"] as? String == "Deployment" })
            #expect(value(deployment, "spec.replicas") as? Int == 1)
            #expect(value(deployment, "spec.strategy.type") as? String == "Recreate")
            let pod = value(deployment, "spec.template.spec")
            #expect(value(pod, "securityContext.runAsNonRoot") as? Bool == true)
            #expect(value(pod, "securityContext.seccompProfile.type") as? String == "RuntimeDefault")
            #expect(value(pod, "automountServiceAccountToken") as? Bool == false)
            let container = value(pod, "containers.0")
            #expect(value(container, "image") as? String == "ghcr.io/imagebump/imagebump:0.1.0")
            #expect(value(container, "securityContext.readOnlyRootFilesystem") as? Bool == true)
            #expect(value(container, "securityContext.allowPrivilegeEscalation") as? Bool == false)
            #expect(value(container, "securityContext.capabilities.drop") as? [String] == ["ALL"])
            #expect(value(container, "livenessProbe.httpGet.path") as? String == "/healthz")
            #expect(value(container, "readinessProbe.httpGet.path") as? String == "/readyz")
            #expect(value(container, "resources.limits.memory") != nil)
            // The volume is mounted where the config keeps its state.
            let mounts = (value(container, "volumeMounts") as? [[String: Any]]) ?? []
            let config = try #require(resources.first { $0["kind"] as? String == "ConfigMap" })
            let yaml = try #require((value(config, "data") as? [String: Any])?["imagebump.yaml"] as? String)
            let stateDir = try #require((try Yams.load(yaml: yaml) as? [String: Any])?["stateDir"] as? String)
            #expect(mounts.contains { $0["name"] as? String == "state" && $0["mountPath"] as? String == stateDir })
            // The Ingress exposes deliveries only, never the admin listener.
            let ingress = try #require(resources.first { $0["kind"] as? String == "Ingress" })
            let paths = ((value(ingress, "spec.rules.0.http.paths") as? [[String: Any]]) ?? []).compactMap { $0["path"] as? String }
            #expect(paths == ["/hooks/", "/v1/events"])
            let ports = ((value(ingress, "spec.rules.0.http.paths") as? [[String: Any]]) ?? []).compactMap { value($0, "backend.service.port.name") as? String }
            #expect(Set(ports) == ["hooks"])
        }

        @Test func theKitsConfigurationIsValid() async throws {
            let result = try await Command.running(
                CommandLineTests.binary.path, ["validate", "--config", Self.base.appendingPathComponent("imagebump.yaml").path, "--no-secrets"])
            #expect(result.status == 0, "\(result.stderr)")
        }

        /// `deploy/kubernetes/ha`: three replicas on one PostgreSQL journal, rolled one at a time,
        /// a PodDisruptionBudget, the database URL and password from the Secret, no shared volume.
        @Test func theHighAvailabilityOverlayRunsThreeReplicasOnPostgreSQL() async throws {
            let (text, resources) = try await Self.built(Self.highlyAvailable)
            #expect(Set(resources.compactMap { $0["kind"] as? String }) == [
                "ServiceAccount", "ConfigMap", "Service", "Deployment", "Ingress", "NetworkPolicy", "PodDisruptionBudget",
            ])
            try await Self.validate(text)
            let value = Self.value
            let deployment = try #require(resources.first { $0["kind"] as? String == "Deployment" })
            #expect(value(deployment, "spec.replicas") as? Int == 3)
            #expect(value(deployment, "spec.strategy.type") as? String == "RollingUpdate")
            #expect(value(deployment, "spec.strategy.rollingUpdate.maxUnavailable") as? Int == 0)
            let volumes = (value(deployment, "spec.template.spec.volumes") as? [[String: Any]]) ?? []
            let state = try #require(volumes.first { $0["name"] as? String == "state" })
            #expect(state["emptyDir"] != nil && state["persistentVolumeClaim"] == nil, "\(state)")
            let budget = try #require(resources.first { $0["kind"] as? String == "PodDisruptionBudget" })
            #expect(value(budget, "spec.minAvailable") as? Int == 2)
            let podLabels = (value(deployment, "spec.template.metadata.labels") as? [String: String]) ?? [:]
            let selected = (value(budget, "spec.selector.matchLabels") as? [String: String]) ?? [:]
            #expect(!selected.isEmpty && selected.allSatisfy { podLabels[$0.key] == $0.value }, "the budget selects the pods")
            let egress = (value(resources.first { $0["kind"] as? String == "NetworkPolicy" }, "spec.egress") as? [[String: Any]]) ?? []
            #expect(egress.contains { ($0["ports"] as? [[String: Any]])?.contains { $0["port"] as? Int == 5432 } == true })
            let config = try #require(resources.first { $0["kind"] as? String == "ConfigMap" })
            let yaml = try #require((value(config, "data") as? [String: Any])?["imagebump.yaml"] as? String)
            let journal = (try Yams.load(yaml: yaml) as? [String: Any])?["journal"] as? [String: Any]
            #expect(journal?["url"] as? String == "env:IMAGEBUMP_DB_URL")
            #expect(journal?["password"] as? String == "env:IMAGEBUMP_DB_PASSWORD")
            let validated = try await Command.running(
                CommandLineTests.binary.path, ["validate", "--config", Self.highlyAvailable.appendingPathComponent("imagebump.yaml").path, "--no-secrets"])
            #expect(validated.status == 0, "\(validated.stderr)")
        }
    }
}
