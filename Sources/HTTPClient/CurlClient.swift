import CCurl
import Dispatch
import Foundation
import Runtime

/// Limits and trust settings for outgoing HTTP.
public struct HTTPClientSettings: Sendable {
    public var connectTimeout: Duration
    /// The whole exchange, connect to last byte.
    public var totalTimeout: Duration
    /// Bodies larger than this are refused (the transfer stops).
    public var maximumResponseBytes: Int
    /// A PEM bundle of certificate authorities; nil uses the system's. Verification is always on.
    public var caBundle: String?
    public var userAgent: String

    public init(
        connectTimeout: Duration = .seconds(5), totalTimeout: Duration = .seconds(30), maximumResponseBytes: Int = 10 << 20,
        caBundle: String? = nil, userAgent: String = "imagebump/0.1"
    ) {
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maximumResponseBytes = maximumResponseBytes
        self.caBundle = caBundle
        self.userAgent = userAgent
    }
}

/// HTTP(S) over libcurl: one easy handle per request, run on a thread of its own so the
/// blocking transfer never holds a Swift concurrency thread. Only http and https are allowed,
/// for the request and for redirects; proxies come from the standard environment variables.
public struct CurlClient: HTTPTransport {
    public let settings: HTTPClientSettings

    private static let initialised: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        return true
    }()

    public init(settings: HTTPClientSettings = HTTPClientSettings()) {
        _ = Self.initialised
        self.settings = settings
    }

    public func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let settings = settings
        let result = await runBlocking { Self.perform(request, settings) }
        return try result.get()
    }

    static func perform(_ request: HTTPRequest, _ settings: HTTPClientSettings) -> Result<HTTPResponse, HTTPClientError> {
        let label = "\(request.method) \(redacted(request.url))"
        guard let easy = CurlEasy() else { return .failure(HTTPClientError(.other, request: label, message: "curl_easy_init failed")) }
        let sink = ResponseSink(limit: settings.maximumResponseBytes)
        let headers = HeaderList(request.headers.map { "\($0.name): \($0.value)" } + ["Expect:"])
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let status: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { buffer in
            withExtendedLifetime((sink, headers)) {
                let handle = easy.handle
                imagebump_curl_set_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
                imagebump_curl_set_string(handle, CURLOPT_URL, request.url)
                imagebump_curl_set_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
                imagebump_curl_set_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
                imagebump_curl_set_long(handle, CURLOPT_FOLLOWLOCATION, 1)
                imagebump_curl_set_long(handle, CURLOPT_MAXREDIRS, 5)
                imagebump_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
                imagebump_curl_set_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
                imagebump_curl_set_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
                if let bundle = settings.caBundle { imagebump_curl_set_string(handle, CURLOPT_CAINFO, bundle) }
                imagebump_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(settings.connectTimeout))
                imagebump_curl_set_long(handle, CURLOPT_TIMEOUT_MS, milliseconds(settings.totalTimeout))
                imagebump_curl_set_size(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(settings.maximumResponseBytes))
                imagebump_curl_set_string(handle, CURLOPT_USERAGENT, settings.userAgent)
                imagebump_curl_set_string(handle, CURLOPT_ACCEPT_ENCODING, "")
                imagebump_curl_set_list(handle, CURLOPT_HTTPHEADER, headers.list)
                if request.method == "HEAD" {
                    imagebump_curl_set_long(handle, CURLOPT_NOBODY, 1)
                } else if request.method != "GET" {
                    imagebump_curl_set_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
                }
                if let body = request.body {
                    imagebump_curl_set_size(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                    body.withUnsafeBytes { bytes in
                        _ = imagebump_curl_set_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                    }
                }
                let context = Unmanaged.passUnretained(sink).toOpaque()
                imagebump_curl_set_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
                    guard let data, let context else { return 0 }
                    return Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue().append(body: data, size * count)
                }
                imagebump_curl_set_pointer(handle, CURLOPT_WRITEDATA, context)
                imagebump_curl_set_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, context in
                    guard let data, let context else { return 0 }
                    return Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue().append(header: data, size * count)
                }
                imagebump_curl_set_pointer(handle, CURLOPT_HEADERDATA, context)
                return curl_easy_perform(handle)
            }
        }
        guard status == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(status)) : detail
            return .failure(HTTPClientError(classify(status, tooLarge: sink.tooLarge), request: label, message: redacted(message)))
        }
        var code = 0
        imagebump_curl_get_long(easy.handle, CURLINFO_RESPONSE_CODE, &code)
        return .success(HTTPResponse(status: code, headers: sink.headers, body: sink.body))
    }

    static func classify(_ status: CURLcode, tooLarge: Bool) -> HTTPClientError.Code {
        if tooLarge { return .responseTooLarge }
        switch status {
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .unreachable
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM: return .tls
        case CURLE_FILESIZE_EXCEEDED: return .responseTooLarge
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT: return .unsupportedURL
        default: return .other
        }
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }

    /// Removes `user:password@` from URLs in a text.
    static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://") else { return text }
        let rest = text[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != " " }
        guard let at = authority.lastIndex(of: "@") else { return text }
        return String(text[..<scheme.upperBound]) + String(rest[rest.index(after: at)...])
    }
}

/// Owns a `CURL*` easy handle.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer

    init?() {
        guard let handle = curl_easy_init() else { return nil }
        self.handle = handle
    }

    deinit { curl_easy_cleanup(handle) }
}

/// Owns a `curl_slist` of header lines.
final class HeaderList {
    private(set) var list: UnsafeMutablePointer<curl_slist>?

    init(_ lines: [String]) {
        for line in lines { list = curl_slist_append(list, line) }
    }

    deinit { curl_slist_free_all(list) }
}

/// Collects one response's headers and body, refusing bodies over the limit.
final class ResponseSink {
    let limit: Int
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    var tooLarge = false

    init(limit: Int) { self.limit = limit }

    func append(body data: UnsafeMutablePointer<CChar>, _ count: Int) -> Int {
        guard body.count + count <= limit else {
            tooLarge = true
            return 0  // stops the transfer
        }
        body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: count))
        return count
    }

    func append(header data: UnsafeMutablePointer<CChar>, _ count: Int) -> Int {
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            headers.removeAll()  // a new response (after a redirect or 100 Continue)
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
            headers.append((name, value))
        }
        return count
    }
}
