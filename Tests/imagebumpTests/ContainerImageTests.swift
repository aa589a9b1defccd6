import Foundation
import TestSupport
import Testing

extension HeavyPeers {
    /// The Dockerfile, checked by reading (no Docker engine here): what it copies exists and is not
    /// kept out by `.dockerignore`; its health check runs a command the binary has; and the runtime
    /// stage installs every shared library the binary links, apart from the base image's own.
    @Suite struct ContainerImageTests {
        static let root = fixturesDirectory().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

        static func dockerfile() throws -> String {
            // Continuation lines joined, as Docker reads them.
            try String(contentsOf: root.appendingPathComponent("Dockerfile"), encoding: .utf8).replacingOccurrences(of: "\\\n", with: " ")
        }

        @Test func whatItCopiesIsInTheBuildContext() throws {
            let ignored = try String(contentsOf: Self.root.appendingPathComponent(".dockerignore"), encoding: .utf8)
                .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
                .map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            let copies = try Self.dockerfile().split(separator: "\n").filter { $0.hasPrefix("COPY ") && !$0.contains("--from=") }
            #expect(copies.count >= 4)
            for line in copies {
                let sources = line.split(separator: " ").dropFirst().dropLast().map(String.init)
                for source in sources {
                    #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(source).path), "\(line): \(source) does not exist")
                    let top = source.split(separator: "/").first.map(String.init) ?? source
                    #expect(!ignored.contains(top), "\(line): \(source) is excluded by .dockerignore")
                }
            }
        }

        @Test func theHealthCheckRunsACommandTheBinaryHas() async throws {
            let line = try #require(try Self.dockerfile().split(separator: "\n").first { $0.hasPrefix("HEALTHCHECK") })
            #expect(line.contains("CMD [\"imagebump\", \"healthcheck\""))
            let help = try await Command.running(CommandLineTests.binary.path, ["healthcheck", "--help"])
            #expect(help.status == 0 && help.stdout.contains("--url"))
            // Nothing listens on this port: unhealthy, exit 1, with the reason.
            let port = try BackgroundServer.freePort()
            let down = try await Command.running(CommandLineTests.binary.path, ["healthcheck", "--url", "http://127.0.0.1:\(port)/healthz", "--timeout", "2"])
            #expect(down.status == 1)
            #expect(down.stderr.hasPrefix("unhealthy: "))
        }

        @Test func theRuntimeStageInstallsEveryLibraryTheBinaryLinks() async throws {
            let text = try Self.dockerfile()
            let runtime = try #require(text.components(separatedBy: "FROM debian:bookworm-slim").last)
            let install = try #require(runtime.split(separator: "\n").first { $0.contains("apt-get install") })
            let packages = Array(
                install.split(separator: " ").map(String.init).drop { $0 != "--no-install-recommends" }.dropFirst().prefix { !$0.hasPrefix("&&") })
            #expect(packages.contains("libgit2-1.5"))
            // Many programs, on a thread of their own: what the base image and the install give, and
            // which package each library the binary needs comes from.
            let (available, owners) = try await blocking { () throws -> (Set<String>, [(library: String, path: String, package: String?)]) in
                // What the base image has: Debian's required packages and apt (which brings libstdc++).
                let required = try Command.succeed("/usr/bin/dpkg-query", ["-W", "-f=${Package} ${Priority}\n"]).split(separator: "\n")
                    .filter { $0.hasSuffix(" required") }.map { String($0.split(separator: " ")[0]) }
                let closure = try Command.succeed(
                    "/usr/bin/apt-cache",
                    ["depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances"]
                        + packages + ["apt"] + required)
                let available = Set(closure.split(separator: "\n").filter { !$0.hasPrefix(" ") }.map { String($0).replacingOccurrences(of: ":amd64", with: "") })
                // The binary's direct needs (the Swift runtime is linked statically in the image).
                let needed = try Command.succeed("/usr/bin/readelf", ["-d", CommandLineTests.binary.path]).split(separator: "\n")
                    .filter { $0.contains("(NEEDED)") }.compactMap { $0.split(separator: "[").last?.split(separator: "]").first.map(String.init) }
                    .filter { !["libswift", "libFoundation", "lib_Foundation", "libdispatch", "libBlocksRuntime"].contains(where: $0.hasPrefix) }
                let resolved = try Command.succeed("/usr/bin/ldd", [CommandLineTests.binary.path]).split(separator: "\n")
                var owners: [(library: String, path: String, package: String?)] = []
                for library in needed {
                    guard let path = resolved.first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(library + " ") })?
                        .split(separator: " ").first(where: { $0.hasPrefix("/") }).map(String.init)
                    else { continue }  // ld-linux and the vDSO
                    let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
                    let owner = [path, "/usr" + path, real, "/usr" + real].lazy.compactMap { candidate -> String? in
                        guard let out = try? Command.run("/usr/bin/dpkg", ["-S", candidate]), out.status == 0 else { return nil }
                        return out.stdout.split(separator: ":").first.map(String.init)
                    }.first
                    owners.append((library, path, owner))
                }
                return (available, owners)
            }
            #expect(owners.contains { $0.library.hasPrefix("libgit2") })
            for (library, path, owner) in owners {
                let package = try #require(owner, "no Debian package owns \(path)")
                #expect(available.contains(package), "\(library) comes from \(package), which the runtime stage does not install")
            }
        }
    }
}
