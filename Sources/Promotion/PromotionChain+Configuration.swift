import Configuration
import ImageReference

extension PromotionChain {
    /// A configured chain (`promotions[]`), its smoke gates made runnable.
    public init(_ settings: PromotionSettings) {
        self.init(
            name: settings.name, images: settings.images.map(\.description),
            steps: settings.steps.map { step in
                Step(
                    target: step.target,
                    gates: step.gates.map { gate -> Gate in
                        switch gate {
                        case .none: .none
                        case .manual: .manual
                        case .merged: .merged
                        case .smoke(let checks, let timeout, let interval):
                            .smoke(
                                SmokeGate(
                                    checks: checks.map {
                                        SmokeCheck(url: $0.url, status: $0.status, bodyContains: $0.bodyContains, jsonField: $0.jsonField, equals: $0.equals)
                                    }, timeout: .seconds(timeout), interval: .seconds(interval)))
                        }
                    })
            }, revertOnSmokeFailure: settings.revertOnSmokeFailure)
    }
}
