import ImageReference
import Configuration
import Manifests
import Policy
import Foundation
import TestSupport
import Testing

@Suite struct ConfigurationTests {
    static let fixtures = fixturesDirectory()
    /// The documented example at the repository root.
    static let example = fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("config/imagebump.yaml")

    @Test func documentedExampleIsValid() throws {
        let configuration = try Configuration.load(path: Self.example.path)
        #expect(configuration.repos.map(\.name) == ["env", "platform"])
        #expect(configuration.repos[0].password == .environment("IMAGEBUMP_GIT_TOKEN"))
        #expect(configuration.repos[1].sshKey == .file("/run/secrets/imagebump_deploy_key"))
        #expect(configuration.targets.map(\.mode) == [.commit, .branch, .branch])
        #expect(configuration.targets[0].paths.map(\.pattern) == ["envs/dev/**"])
        #expect(configuration.fluxPolicies["flux-system:api"]?.description == "ghcr.io/acme/api")
        #expect(configuration.log.format == .logfmt)
        #expect(configuration.mergePollSeconds == 300)
    }

    @Test func secretsAreResolvedAndWeakOnesNamedAtTheirLine() throws {
        let text = """
            receivers:
              - {name: ci, type: generic, secret: env:CI_TOKEN}
              - {name: hub, type: dockerhub, secret: env:HUB_TOKEN}
              - {name: registry, type: distribution, secret: env:REGISTRY_TOKEN}
            """
        let configuration = try Configuration.parse(text, file: "c.yaml")
        let problems = configuration.secretProblems(environment: ["CI_TOKEN": "x", "HUB_TOKEN": String(repeating: "a1", count: 20)])
        #expect(problems.count == 2, "\(problems)")
        #expect(problems.first?.description.hasPrefix("c.yaml:2:") == true)
        #expect(problems.first?.message.contains("env:CI_TOKEN has 1 non-whitespace characters; this secret needs at least 16") == true)
        #expect(problems.last?.description.hasPrefix("c.yaml:4:") == true)
        #expect(problems.last?.message.contains("REGISTRY_TOKEN is not set") == true)
        #expect(problems.allSatisfy { !$0.description.contains("a1a1") })
        let strong = String(repeating: "k", count: 16)
        #expect(
            configuration.secretProblems(environment: [
                "CI_TOKEN": strong, "HUB_TOKEN": String(repeating: "a1", count: 20), "REGISTRY_TOKEN": " \(strong)\n",
            ]).isEmpty)
    }

    @Test func aPubSubReceiverChecksOIDCTokensInsteadOfASecret() throws {
        let configuration = try Configuration.parse(
            """
            receivers:
              - {name: gcr, type: gcr, audience: "https://imagebump.example.com/hooks/gcr", serviceAccount: push@p.iam.gserviceaccount.com}
            """, file: "c.yaml")
        #expect(configuration.receivers.first?.secret == nil)
        #expect(configuration.receivers.first?.audience == "https://imagebump.example.com/hooks/gcr")
        #expect(configuration.secretProblems(environment: [:]).isEmpty)
        do {
            _ = try Configuration.parse(
                """
                receivers:
                  - {name: gcr, type: gcr, audience: "https://imagebump.example.com/hooks/gcr"}
                  - {name: hub, type: harbor, secret: env:H, audience: x}
                """, file: "c.yaml")
            Issue.record("accepted an OIDC receiver without its service account")
        } catch {
            #expect(error.description.contains("c.yaml:2:") && error.description.contains("receivers[0].serviceAccount"), "\(error)")
            #expect(error.description.contains("receivers[1].audience: audience (an OIDC token's) is for gcr receivers"))
        }
    }

    @Test func workerAttemptsAreBounded() throws {
        let text = """
            receivers: [{name: ci, type: generic, secret: env:CI_TOKEN}]
            workers: {attempts: 64}
            """
        do {
            _ = try Configuration.parse(text, file: "c.yaml")
            Issue.record("64 attempts were accepted")
        } catch {
            #expect(error.description.contains("c.yaml:2:") && error.description.contains("workers.attempts: expected a whole number from 1 to 20"), "\(error)")
        }
    }

    @Test func aBranchTargetWithoutAForgeIsAWarningThatSaysNoMergeRequestIsOpened() throws {
        let text = """
            receivers: [{name: ci, type: generic, secret: env:CI_TOKEN}]
            repos: [{name: env, url: /srv/env.git}]
            targets:
              - {name: dev, repo: env, mode: commit}
              - name: prd
                repo: env
                mode: branch
            images: [{name: ghcr.io/acme/api, targets: [dev, prd]}]
            """
        let configuration = try Configuration.parse(text, file: "c.yaml")
        #expect(configuration.warnings.count == 1)
        #expect(configuration.warnings.first?.description.hasPrefix("c.yaml:5:") == true, "\(configuration.warnings)")
        #expect(configuration.warnings.first?.message.contains("no merge request is opened") == true)
    }

    @Test(arguments: ["invalid", "invalid-journal", "invalid-policy", "invalid-promotion", "invalid-registries", "invalid-serve"])
    func everyProblemIsReportedWithFileLineKeyAndFix(_ name: String) throws {
        let text = try String(contentsOf: Self.fixtures.appendingPathComponent("\(name).yaml"), encoding: .utf8)
        let expected = try String(contentsOf: Self.fixtures.appendingPathComponent("\(name).expected"), encoding: .utf8)
        #expect(throws: ConfigError.self) { try Configuration.parse(text, file: "\(name).yaml") }
        do {
            _ = try Configuration.parse(text, file: "\(name).yaml")
        } catch {
            if ProcessInfo.processInfo.environment["IMAGEBUMP_UPDATE_GOLDEN"] != nil {
                try (error.description + "\n").write(
                    to: Self.fixtures.appendingPathComponent("\(name).expected"), atomically: true, encoding: .utf8)
            }
            #expect(error.description + "\n" == expected)
            #expect(!error.description.contains("hunter2"), "a secret value leaked into a message")
        }
    }

    @Test func aJournalURLIsPostgreSQLsAndCarriesNoPassword() throws {
        let tail = "repos: [{name: env, url: /srv/env.git}]\ntargets: [{name: dev, repo: env}]\n"
        let good = try Configuration.parse(
            "journal: {url: 'postgres://imagebump@db:5432/imagebump?sslmode=verify-full', password: env:DB_PASSWORD}\n" + tail, file: "c.yaml")
        #expect(good.journal.url == "postgres://imagebump@db:5432/imagebump?sslmode=verify-full")
        #expect(good.journal.password == SecretReference("env:DB_PASSWORD"))
        let fromSecret = try Configuration.parse("journal: {url: env:DB_URL, password: env:DB_PASSWORD}\n" + tail, file: "c.yaml")
        #expect(fromSecret.journal.url == nil)
        #expect(fromSecret.journal.urlSecret == SecretReference("env:DB_URL"))
        #expect(fromSecret.journal.isShared)
        #expect(fromSecret.secretUses.contains { $0.keyPath == "journal.url" })
        for (url, message) in [
            ("mysql://db/imagebump", "give a PostgreSQL URL"), ("postgresql://db/imagebump?password=x", "a password in the URL"),
            ("postgres://u:p@db/imagebump", "a password in the URL"),
        ] {
            #expect(throws: ConfigError.self) { try Configuration.parse("journal: {url: '\(url)'}\n" + tail, file: "c.yaml") }
            do { _ = try Configuration.parse("journal: {url: '\(url)'}\n" + tail, file: "c.yaml") } catch {
                #expect(error.description.contains("c.yaml:1:16: journal.url: \(message)"), "\(error)")
            }
        }
    }

    @Test func aStepsGatesKeepTheirOrderAndABranchTargetAlwaysWaitsForItsMerge() throws {
        let configuration = try Configuration.load(path: Self.fixtures.appendingPathComponent("promotion-gates.yaml").path)
        let names = configuration.promotions[0].steps.map { step in
            step.gates.map { gate -> String in
                switch gate {
                case .none: "none"
                case .manual: "manual"
                case .merged: "merged"
                case .smoke: "smoke"
                }
            }
        }
        #expect(names == [[], ["merged", "smoke", "manual"], ["merged", "manual"], ["manual", "merged"]])
    }

    @Test func aTargetsMergeMethodIsReadAndAnUnknownOneNamed() throws {
        let text = """
            repos: [{name: env, url: /srv/env.git}]
            targets:
              - {name: acc, repo: env, mode: branch, mergeRequest: {autoMerge: true, mergeMethod: squash}}
              - {name: prd, repo: env, mode: branch, mergeRequest: {mergeMethod: fast-forward}}
            """
        do {
            _ = try Configuration.parse(text, file: "c.yaml")
            Issue.record("fast-forward was taken")
        } catch {
            #expect(error.description.contains("c.yaml:4:"), "\(error)")
            #expect(error.description.contains("targets[1].mergeRequest.mergeMethod: \"fast-forward\" is not one of merge, squash, rebase"))
        }
        let valid = try Configuration.parse(text.replacingOccurrences(of: "fast-forward", with: "rebase"), file: "c.yaml")
        #expect(valid.targets.map(\.mergeMethod) == [.squash, .rebase])
    }

    @Test func registriesAndPollingAreRead() throws {
        let configuration = try Configuration.parse(
            """
            registries:
              - {host: ghcr.io, username: robot, password: env:GHCR_TOKEN}
              - {host: "127.0.0.1:5000", insecure: true, username: ci, password: env:LAB_PASSWORD}
            workers: {pollInterval: 5m}
            images:
              - {name: ghcr.io/acme/api, verify: true}
              - {name: ghcr.io/acme/web, poll: 30s}
              - {name: ghcr.io/acme/cron, poll: 0}
              - {name: docker.io/library/nginx, poll: 1h}
            """, file: "r.yaml")
        #expect(configuration.polledImages.map { "\($0.image.name) \($0.seconds)" } == [
            "ghcr.io/acme/api 300", "ghcr.io/acme/web 30", "docker.io/library/nginx 3600",
        ])
        #expect(configuration.images[0].verify && !configuration.images[1].verify)
        #expect(configuration.registry("ghcr.io").password == .environment("GHCR_TOKEN"))
        #expect(configuration.registry("quay.io") == RegistrySettings(host: "quay.io"))  // not listed: anonymous HTTPS
        // A password over plain HTTP works, and is said.
        #expect(configuration.warnings.map(\.keyPath) == ["registries[1].insecure"])
        #expect(configuration.secretUses.map(\.keyPath) == ["registries[0].password", "registries[1].password"])
    }

    @Test func aTargetPolicyOverridesOnlyTheKeysItGives() throws {
        let configuration = try Configuration.parse(
            """
            targets: [{name: dev, repo: env}, {name: prd, repo: env}]
            repos: [{name: env, url: /srv/env.git}]
            images:
              - name: ghcr.io/acme/api
                policy: {semver: "^1.4", ignore: [latest, "*-rc*"], digest: pin}
                targetPolicies: {prd: {semver: "~1.4.0"}, dev: {prerelease: true}}
            """, file: "p.yaml")
        let image = configuration.images[0]
        let prd = image.policy(for: "prd")
        #expect(prd.ignore == ["latest", "*-rc*"])
        #expect(prd.digest == .pin)
        #expect(prd.verdict("1.5.0") == .rejected("outside ~1.4.0"))
        #expect(prd.verdict("latest") == .rejected("ignored by \"latest\""))
        // prerelease alone keeps the image's range and lets its pre-releases in.
        #expect(image.policy(for: "dev").verdict("1.5.0-beta.1") == .accepted)
        #expect(image.policy.verdict("1.5.0-beta.1") != .accepted)
    }

    @Test func aDuplicateKeyIsNamedAtItsSecondLine() {
        let text = "repos: [{name: env, url: /srv/env.git}]\ntargets: []\nrepos: []\n"
        #expect(throws: ConfigError.self) { try Configuration.parse(text, file: "d.yaml") }
        do { _ = try Configuration.parse(text, file: "d.yaml") } catch {
            #expect(error.description == "d.yaml:3:1: not valid YAML: the key repos is given twice in one mapping (the first stands above); keep one")
        }
    }

    @Test func anEmptyFileIsAProblemNotDefaults() throws {
        let file = try TemporaryDirectory.make("imagebump-empty-config").appendingPathComponent("empty.yaml")
        try "# nothing yet\n---\n".write(to: file, atomically: true, encoding: .utf8)
        do {
            _ = try Configuration.load(path: file.path)
            Issue.record("an empty file loaded")
        } catch {
            #expect(error.description.hasSuffix("empty.yaml:1:1: the file is empty; start from config/imagebump.yaml (repos, targets, images, receivers)"))
        }
    }

    @Test func aPasswordOverPlainHTTPIsAWarning() throws {
        let configuration = try Configuration.parse(
            "repos: [{name: env, url: \"http://git.lab/env.git\", username: bot, password: env:GIT_PASSWORD}]\n", file: "h.yaml")
        #expect(configuration.warnings.map(\.description) == [
            "h.yaml:1:16: repos[0].url: repo env sends its password over plain http://: anyone on the path can read it; use https://"
        ])
    }

    @Test func invalidYAMLIsLocated() {
        do {
            _ = try Configuration.parse("repos:\n  - name: [unclosed\n", file: "c.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.problems.count == 1)
            #expect(error.description.hasPrefix("c.yaml:3:1: not valid YAML"))
        }
    }

    @Test func emptyFileGivesDefaults() throws {
        let configuration = try Configuration.parse("", file: "empty.yaml")
        #expect(configuration == Configuration())
        #expect(configuration.scan.maximumFileSize == 1 << 20)
    }

    @Test func missingFileSaysWhatToDo() {
        do {
            _ = try Configuration.load(path: "/nonexistent/imagebump.yaml")
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/nonexistent/imagebump.yaml:1:1: the file cannot be read; check the path given to --config")
        }
    }

    @Test func secretsResolveFromEnvironmentAndFileAndNeverPrint() throws {
        let secretFile = try TemporaryDirectory.make().appendingPathComponent("token")
        try Data("s3cr3t-from-file\n".utf8).write(to: secretFile)
        let fromFile = try #require(SecretReference("file:\(secretFile.path)")).resolve()
        #expect(fromFile.revealed == "s3cr3t-from-file")
        #expect("\(fromFile)" == "[REDACTED]")
        let fromEnvironment = try #require(SecretReference("env:TOKEN")).resolve(environment: ["TOKEN": "abc123"])
        #expect(fromEnvironment.revealed == "abc123")
        #expect(String(reflecting: fromEnvironment) == "[REDACTED]")
        #expect(throws: SecretError.self) { try SecretReference.environment("MISSING").resolve(environment: [:]) }
        #expect(SecretReference("hunter2") == nil)
        #expect(SecretReference("env:1BAD") == nil)
    }

    @Test func urlTokensMustCarry32RandomBytes() throws {
        #expect(Receiver.pathTokenWeakness(String(repeating: "0123456789abcdef", count: 4)) == nil)  // 64 hex digits
        #expect(Receiver.pathTokenWeakness("q3Jx9-Tb2_mVw7LkP0zR4sYc8NhD1fGaUe6oKiZ5tXy") == nil)  // 43 base64url
        #expect(Receiver.pathTokenWeakness("0123456789abcdef0123456789abcdef")?.contains("needs 32 random bytes (64+ characters)") == true)
        #expect(Receiver.pathTokenWeakness(String(repeating: "ab", count: 40))?.contains("does not look random") == true)
        #expect(Receiver.pathTokenWeakness(String(repeating: "q3Jx9/Tb2+mVw7Lk", count: 4))?.contains("only letters, digits") == true)

        // At validation, a token that can be read now is checked where it is configured.
        let directory = try TemporaryDirectory.make("imagebump-config")
        let token = directory.appendingPathComponent("hub-token")
        try Data("short-token-0123456789abcdef\n".utf8).write(to: token)
        let config = directory.appendingPathComponent("weak.yaml")
        try Data("receivers:\n  - name: hub\n    type: dockerhub\n    secret: file:\(token.path)\n".utf8).write(to: config)
        do {
            _ = try Configuration.load(path: config.path)
            Issue.record("a weak URL token was accepted")
        } catch {
            #expect(error.description.hasPrefix("\(config.path):4:13: receivers[0].secret: the URL token is the only proof"), "\(error)")
        }
    }

    @Test func targetsForAnImage() throws {
        let configuration = try Configuration.load(path: Self.example.path)
        let worker = try #require(configuration.images.last?.name)
        #expect(configuration.targets(for: worker).map(\.name) == ["dev"])
    }
}
