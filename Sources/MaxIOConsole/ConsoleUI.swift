import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Serves the console's page and files (embedded in the binary) at `/` and `/ui/...`, with headers that keep
/// the page to its own scripts and out of frames.
package enum ConsoleUI {
    static let decoded: [String: (type: String, etag: String, body: ByteBuffer)] = {
        var out: [String: (type: String, etag: String, body: ByteBuffer)] = [:]
        for (name, f) in ConsoleAssets.files {
            out[name] = (f.type, f.etag, ByteBuffer(bytes: Data(base64Encoded: f.base64) ?? Data()))
        }
        return out
    }()

    package static func register(on router: Router<ConsoleRequestContext>) {
        router.get("/") { request, _ in serve("index.html", request) }
        // The API's description (OpenAPI 3), kept next to the console's files.
        router.get("/api/v1/openapi.json") { request, _ in serve("openapi.json", request) }
        router.get("/ui/{file}") { request, context in
            serve(context.parameters.get("file") ?? "", request)
        }
    }

    static func serve(_ name: String, _ request: Request) -> Response {
        var headers = HTTPFields()
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        guard let f = decoded[name] else {
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(
                status: .notFound, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: "not found\n")))
        }
        headers[.contentType] = f.type
        headers[.eTag] = f.etag
        // Revalidated every time (a new build has new files), answered 304 when unchanged.
        headers[.cacheControl] = "no-cache"
        if request.headers[.ifNoneMatch] == f.etag { return Response(status: .notModified, headers: headers) }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: f.body))
    }
}
