import Foundation
import HTTPClient
import TestSupport
import Testing

@testable import Forge

/// A next page on another origin is not followed: the token goes to the configured API only.
@Suite struct PaginationOriginTests {
    @Test func aNextLinkToAnotherOriginIsRefusedAndGetsNoToken() async throws {
        let elsewhere = try HTTPDouble { _ in .json(200, [["id": 2]]) }
        let api = try HTTPDouble { request in
            request.path.hasPrefix("/items")
                ? .json(200, [["id": 1]], headers: [("Link", "<\(elsewhere.url)/items?page=2>; rel=\"next\"")]) : .json(404, [:])
        }
        let http = ForgeHTTP(
            transport: AuthorizingTransport(CurlClient(), headers: [("Authorization", "Bearer ghp_T3stT0ken")]), baseURL: api.url)
        await #expect(throws: ForgeError.self) { _ = try await http.list("list items", "/items") }
        #expect(api.requests.count == 1)
        #expect(elsewhere.requests.isEmpty, "the other origin was asked, with the token")

        // Origins compare scheme, host (any case) and port (explicit or the scheme's).
        #expect(ForgeHTTP.origin(api.url) == ForgeHTTP.origin(api.url + "/x?y=1"))
        #expect(ForgeHTTP.origin("https://api.github.com/repos") == "https://api.github.com:443")
        #expect(ForgeHTTP.origin("https://api.github.com:443/x") == ForgeHTTP.origin("https://API.github.com/y"))
    }
}
