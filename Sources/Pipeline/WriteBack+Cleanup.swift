import Git
import ImageReference

extension WriteBack {
    /// Deletes a target's update branch for an image once its merge request was merged or
    /// closed, only while the branch still points at `expected` (the commit the request ended
    /// with): an update pushed since is kept. True when the branch was deleted. Over HTTPS/SSH the
    /// check is a fetch just before the delete (a narrow race remains); locally it is exact.
    public func deleteUpdateBranch(target: GitTarget, image: ImageName, expected: String) throws(WriteBackError) -> Bool {
        let branch = Self.updateBranch(target: target.name, image: image)
        let reference = "refs/heads/\(branch)"
        if GitRepository.isLocal(target.url) {
            let path = target.url.hasPrefix("file://") ? String(target.url.dropFirst(7)) : target.url
            return try git(target) { () throws(GitError) -> Bool in
                try GitRepository.openBare(at: path).deleteReference(reference, ifAt: expected)
            }
        }
        let repository = try RepositoryCache(stateDirectory: settings.stateDirectory).open(target.repository, target: target.name)
        try fetch(repository, target: target, updateBranch: branch)
        return try git(target) { () throws(GitError) -> Bool in
            guard try repository.target(of: "refs/remotes/origin/\(branch)")?.hex == expected else { return false }
            try repository.push(url: target.url, refspecs: [":\(reference)"], credentials: target.credentials)
            try repository.deleteReference("refs/remotes/origin/\(branch)")
            return true
        }
    }
}
