import Foundation
import Git

/// The bare clones imagebump keeps under its state directory, one per configured repository.
/// A missing cache is created; one that cannot be opened or read is removed and made anew.
struct RepositoryCache {
    let stateDirectory: String

    func path(for repository: String) -> String {
        let safe = String(repository.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        return "\(stateDirectory)/repos/\(safe).git"
    }

    /// Opens the cache, or creates it when missing or unreadable.
    func open(_ repository: String, target: String) throws(WriteBackError) -> GitRepository {
        let path = path(for: repository)
        if FileManager.default.fileExists(atPath: path), let existing = try? GitRepository.openBare(at: path) { return existing }
        return try recreate(repository, target: target)
    }

    /// Removes whatever is there and creates an empty bare repository.
    func recreate(_ repository: String, target: String) throws(WriteBackError) -> GitRepository {
        let path = path(for: repository)
        do {
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.createDirectory(atPath: "\(stateDirectory)/repos", withIntermediateDirectories: true)
        } catch {
            throw WriteBackError(
                .storage, target: target,
                detail:
                    "cannot prepare the repository cache at \(path): \(error.localizedDescription); check that the state directory is writable and has space"
            )
        }
        do {
            return try GitRepository.initBare(at: path)
        } catch {
            throw WriteBackError(
                .storage, target: target,
                detail:
                    "cannot create the repository cache at \(path): \(error.message); check that the state directory is writable and has space",
                gitError: error)
        }
    }
}
