import Configuration
import HTTPClient
import ImageReference
import Logging
import Pipeline

extension Route {
    /// Every configured image's routes: its targets, each with its forge (for `branch`
    /// targets), merge-request options and tag policy. `observe` hears of every forge request.
    public static func routes(_ configuration: Configuration, logger: Logger, observe: MeasuringTransport.Observer? = nil) throws(SetupFailure)
        -> [ImageName: [Route]]
    {
        var routes: [ImageName: [Route]] = [:]
        for image in configuration.images {
            var list: [Route] = []
            for target in try GitTarget.targets(for: image.name, in: configuration) {
                list.append(
                    Route(
                        target: target,
                        forge: target.mode == .branch ? try ConfiguredForge.make(for: target.repository, in: configuration, logger: logger, observe: observe) : nil,
                        options: MergeRequestOptions(target: target.name, in: configuration), policy: image.policy(for: target.name)))
            }
            routes[image.name] = list
        }
        return routes
    }

    /// The routes image events take: a promotion chain's later environments are left out
    /// (only the chain writes to them).
    public static func eventRoutes(_ routes: [ImageName: [Route]], _ configuration: Configuration) -> [ImageName: [Route]] {
        var routes = routes
        for chain in configuration.promotions {
            for image in chain.images { routes[image] = routes[image]?.filter { !chain.promotedTargets.contains($0.target.name) } }
        }
        return routes
    }
}
