// libFuzzer entry for the request parser; built by scripts/fuzz with -sanitize=fuzzer,address
// together with Sources/HTTPServer/HTTPRequestParser.swift (not part of any SwiftPM target).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // Whole, then split at every 7th byte: both must agree on the outcome.
    var whole = HTTPRequestParser()
    whole.append(bytes)
    var wholeCount = 0
    var wholeError: HTTPParseError?
    do { while let output = try whole.next() { if case .request = output { wholeCount += 1 } } } catch { wholeError = error }

    var pieces = HTTPRequestParser()
    var pieceCount = 0
    var pieceError: HTTPParseError?
    var index = 0
    outer: while index < bytes.count {
        let end = min(bytes.count, index + 7)
        pieces.append(bytes[index..<end])
        index = end
        do { while let output = try pieces.next() { if case .request = output { pieceCount += 1 } } } catch {
            pieceError = error
            break outer
        }
    }
    if (wholeError == nil) != (pieceError == nil) || (wholeError == nil && wholeCount != pieceCount) {
        // A head-size error can fire earlier when bytes trickle in; anything else is a bug.
        if wholeError?.status != 431 && pieceError?.status != 431 { fatalError("whole and split parses disagree") }
    }
    return 0
}
