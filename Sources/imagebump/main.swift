import Foundation
import Manifests
import ImageReference
let path = CommandLine.arguments[1]
let data = try! Data(contentsOf: URL(fileURLWithPath: path))
let ex = ReferenceExtractor(options: ExtractionOptions(fluxPolicies: ["flux-system:api": try! ImageName(parsing: "ghcr.io/acme/api")]))
let r = ex.extract(file: path, bytes: Array(data))
for ref in r.references { print(ref.kind, ref.image, ref.tag ?? "-", ref.digest?.description ?? "-", ref.line, ref.column, ref.nameLine, ref.slots.map{ "\($0.shape) \($0.range) \($0.style)" }) }
if let s = r.skipped { print("skipped", s.reason) }
for p in r.problems { print("problem", p) }
if CommandLine.arguments.count > 2 {
  let req = try! BumpRequest(ImageReference(parsing: CommandLine.arguments[2]))
  do { let u = try ManifestUpdater(extractor: ex).update(file: path, bytes: Array(data), request: req)
  print(UnifiedDiff.render(file: path, old: u.original, new: u.updated)); print(u.changes.map(\.summary), u.leftAlone.map(\.reason)) } catch { print("ERR", error) }
}
