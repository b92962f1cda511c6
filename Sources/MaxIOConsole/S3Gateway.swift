import Foundation
import HTTPTypes
import Hummingbird
import MaxIOIAM
import NIOCore

/// Runs an S3 request for a signed-in console user (`S3API.respond(to:channel:onBehalfOf:)`, given by the
/// composition root: the console does not depend on the S3 front).
package typealias S3Gateway = @Sendable (Request, any Channel, Principal) async -> Response

extension ConsoleAPI {
    /// `/api/v1/s3/<bucket>[/<key>][?…]`: the S3 API on behalf of the session's user, for the object browser.
    /// The browser holds no S3 keys: the session (cookie and, for writes, the CSRF token, or a bearer token)
    /// names the user, and the S3 front authorizes, limits, audits and answers exactly as for that user's own
    /// signed requests: S3 XML, S3 errors, bodies streamed both ways.
    func registerS3Gateway(_ router: Router<ConsoleRequestContext>) {
        guard s3 != nil else { return }
        router.get("/api/v1/s3/**") { request, context in await self.gateway(request, context) }
        router.head("/api/v1/s3/**") { request, context in await self.gateway(request, context) }
        router.put("/api/v1/s3/**") { request, context in await self.gateway(request, context) }
        router.post("/api/v1/s3/**") { request, context in await self.gateway(request, context) }
        router.delete("/api/v1/s3/**") { request, context in await self.gateway(request, context) }
    }

    func gateway(_ request: Request, _ context: ConsoleRequestContext) async -> Response {
        guard let s3 else { return Self.error(.notFound, "NotFound", "No S3 gateway.") }
        let actor: Principal
        do {
            (actor, _) = try await session(request)
        } catch {
            let e = apiError(error)
            return Self.error(e.status, e.code, e.message)
        }
        let prefix = "/api/v1/s3"
        var head = request.head
        var rest = String((head.path ?? prefix).dropFirst(prefix.count))
        if rest.isEmpty || rest.hasPrefix("?") { rest = "/" + rest }
        head.path = rest
        // Path style always: the console's host name must not read as a virtual-host bucket (`--domain`).
        head.authority = nil
        // What the console sent for itself is not part of the S3 request.
        head.headerFields[.authorization] = nil
        head.headerFields[.cookie] = nil
        head.headerFields[Self.csrfHeader] = nil
        return await s3(Request(head: head, body: request.body), context.channel, actor)
    }
}
