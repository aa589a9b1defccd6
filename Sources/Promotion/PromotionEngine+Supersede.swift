import Journal

extension PromotionEngine {
    /// A newer tag was just written to `environment`: the chain's promotions of the image still
    /// smoke-checking an older tag there are superseded at once (their checks stop; nothing is
    /// reverted, the newer tag is what runs there now).
    func supersedeGating(in environment: String, of chain: String, image: String, by newer: PromotionRecord) async {
        guard let open = try? await journal.promotions(open: true, limit: 1000) else { return }
        for other in open
        where other.id != newer.id && other.chain == chain && other.image == image && other.environment == environment && other.state == .gating {
            smoking.removeValue(forKey: other.id)?.cancel()
            _ = try? await update(
                other.id, step: other.step, environment: other.environment, state: .superseded,
                detail: "superseded by \(newer.tag) in \(environment) (written there while \(other.tag) was being checked); not reverted")
        }
    }
}
