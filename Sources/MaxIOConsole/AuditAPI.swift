import Foundation
import HTTPTypes
import Hummingbird
import MaxIOCore
import MaxIOIAM
import MaxIOStorage
import NIOCore

extension ConsoleAPI {
    /// `GET /api/v1/audit` (a page, newest first, `next_cursor` for the next) and `GET /api/v1/audit/export`
    /// (every matching entry as JSON lines, streamed). Global administrators read everything, tenant
    /// administrators their tenant's entries; nobody can change or delete an entry through the API.
    func registerAudit(_ api: RouterGroup<ConsoleRequestContext>) {
        authed(api, .get, "audit") { request, _, actor, _ in
            var filter = try await self.auditFilter(request, actor)
            filter.limit += 1
            var entries = try await self.audit.store.auditEntries(filter)
            var next: any Sendable = NSNull()
            if entries.count == filter.limit {
                entries.removeLast()
                next = String(entries.last!.id)
            }
            return ["entries": entries.map(Self.auditJSON), "next_cursor": next] as JSON
        }
        api.get("audit/export") { request, _ -> Response in
            let filter: AuditFilter
            do {
                let (actor, _) = try await self.session(request)
                filter = try await self.auditFilter(request, actor)
            } catch {
                let e = self.apiError(error)
                return Self.error(e.status, e.code, e.message)
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/x-ndjson"
            headers[.cacheControl] = "no-store"
            headers[.contentDisposition] = "attachment; filename=\"maxiofs-audit.jsonl\""
            let store = self.audit.store
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    var page = filter
                    page.limit = 1000
                    let wanted = request.uri.queryParameters.get("limit").flatMap(Int.init)
                    var written = 0
                    while true {
                        let entries = try await store.auditEntries(page)
                        var chunk = ""
                        for e in entries {
                            if let wanted, written >= wanted { break }
                            let data = try JSONSerialization.data(
                                withJSONObject: Self.auditJSON(e), options: [.sortedKeys, .withoutEscapingSlashes])
                            chunk += String(decoding: data, as: UTF8.self) + "\n"
                            written += 1
                        }
                        if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
                        if entries.count < page.limit || (wanted.map { written >= $0 } ?? false) { break }
                        page.before = entries.last!.id
                    }
                    try await writer.finish(nil)
                })
        }
    }

    /// The filter of a query: `since`, `until` (ISO 8601), `user`, `tenant` (a name), `action` (`user.*` for a
    /// prefix), `result`, `limit` (1-1000, default 100), `cursor`. A tenant administrator sees only their tenant.
    func auditFilter(_ request: Request, _ actor: Principal) async throws -> AuditFilter {
        let q = request.uri.queryParameters
        var f = AuditFilter()
        func date(_ name: String) throws -> Date? {
            guard let v = q.get(name) else { return nil }
            guard let d = WireDate.parseISO8601(v) else {
                throw APIError(status: .badRequest, code: "InvalidArgument", message: "\(name) is an ISO 8601 time.")
            }
            return d
        }
        f.since = try date("since")
        f.until = try date("until")
        f.actor = q.get("user")
        f.action = q.get("action")
        if let r = q.get("result") {
            guard ["success", "failure", "denied"].contains(r) else {
                throw APIError(
                    status: .badRequest, code: "InvalidArgument", message: "result is success, failure or denied.")
            }
            f.result = r
        }
        if let l = q.get("limit") {
            guard let n = Int(l), (1...1000).contains(n) else {
                throw APIError(status: .badRequest, code: "InvalidArgument", message: "limit is 1 to 1000.")
            }
            f.limit = n
        }
        if let c = q.get("cursor") {
            guard let n = Int64(c), n > 0 else {
                throw APIError(status: .badRequest, code: "InvalidArgument", message: "cursor is not valid.")
            }
            f.before = n
        }
        if actor.isGlobalAdmin {
            if let name = q.get("tenant") {
                guard let t = try await iam.store.tenant(named: name) else {
                    throw IAMError.notFound("No tenant \(name).")
                }
                f.tenantID = t.id
            }
        } else if actor.role == .tenantAdmin, let own = actor.tenantID {
            if let name = q.get("tenant"), name != actor.tenantName {
                throw IAMError.forbidden("You may read only your tenant's audit log.")
            }
            f.tenantID = own
        } else {
            throw IAMError.forbidden("Only administrators read the audit log.")
        }
        return f
    }

    static func auditJSON(_ e: AuditEntry) -> JSON {
        var detail: any Sendable = NSNull()
        if let d = e.detail, let obj = try? JSONSerialization.jsonObject(with: Data(d.utf8)) as? [String: String] {
            detail = obj
        }
        func opt(_ v: String?) -> any Sendable { v ?? NSNull() }
        return [
            "id": e.id, "time": WireDate.iso8601(e.time), "user": e.actor, "user_id": opt(e.actorID),
            "tenant": opt(e.tenantName), "tenant_id": opt(e.tenantID), "source_ip": opt(e.sourceIP),
            "action": e.action, "resource": e.resource, "result": e.result, "request_id": opt(e.requestID),
            "detail": detail,
        ]
    }
}
