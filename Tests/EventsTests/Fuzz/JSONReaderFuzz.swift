// libFuzzer entry for the JSON reader; built by scripts/fuzz with -sanitize=fuzzer,address
// together with Sources/Events/JSONReader.swift (not part of any SwiftPM target). Any body
// must end in a value or a Failure — never a trap, an overflow or a read out of bounds — and
// `prefix` must agree with `value` on where a whole document ends.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let whole = try? JSONReader.value(bytes)
    if whole != nil {
        guard let (_, end) = try? JSONReader.prefix(bytes) else { fatalError("value read the document but prefix did not") }
        for byte in bytes[end...] where ![0x20, 0x09, 0x0A, 0x0D].contains(byte) { fatalError("prefix stopped early") }
    }
    return 0
}
