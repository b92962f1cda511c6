import Foundation
import Hummingbird
import MaxIOCore
import MaxIOIAM
import MaxIOStorage

extension ConsoleAPI {
    /// `GET /api/v1/buckets?prefix&cursor&limit`: the buckets the caller may see (a global administrator: all;
    /// others: their tenant's and their own), by name, a page at a time; `GET /api/v1/buckets/{bucket}`: one.
    func registerBuckets(_ api: RouterGroup<ConsoleRequestContext>) {
        authed(api, .get, "buckets") { request, _, actor, _ in
            let q = request.uri.queryParameters
            var limit = 100
            if let l = q.get("limit") {
                guard let n = Int(l), (1...1000).contains(n) else {
                    throw APIError(status: .badRequest, code: "InvalidArgument", message: "limit is 1 to 1000.")
                }
                limit = n
            }
            let prefix: String? = q.get("prefix").map { String($0) }
            var after: String? = q.get("cursor").map { String($0) }
            var out: [BucketRecord] = []
            // Read pages of the catalog until `limit` visible buckets (or the end) are found.
            while out.count < limit {
                let page = try await self.metadata.listBuckets(owner: nil, prefix: prefix, after: after, limit: 1000)
                out += page.filter { self.sees($0, actor) }.prefix(limit - out.count)
                guard page.count == 1000, let last = page.last else { break }
                after = last.name
            }
            var next: any Sendable = NSNull()
            if out.count == limit, let last = out.last {
                let rest = try await self.metadata.listBuckets(
                    owner: nil, prefix: prefix, after: last.name, limit: 1000)
                if rest.contains(where: { self.sees($0, actor) }) { next = last.name }
            }
            var list: [JSON] = []
            for b in out { list.append(try await self.bucketJSON(b)) }
            return ["buckets": list, "next_cursor": next] as JSON
        }
        authed(api, .get, "buckets/:bucket") { _, context, actor, _ in
            try await self.bucketJSON(try await self.visibleBucket(try Self.param(context, "bucket"), actor))
        }
    }

    /// The console's visibility rule (as `visibleBucket`).
    func sees(_ b: BucketRecord, _ actor: Principal) -> Bool {
        actor.isGlobalAdmin || (!b.tenant.isEmpty && b.tenant == actor.tenantID) || b.owner == actor.userID
    }

    func bucketJSON(_ b: BucketRecord) async throws -> JSON {
        [
            "name": b.name, "tenant": try await tenantName(b.tenant.isEmpty ? nil : b.tenant), "owner": b.owner,
            "region": b.region, "created_at": WireDate.iso8601(b.createdAt),
            "versioning": b.versioning == .unversioned ? NSNull() : b.versioning.rawValue,
            "object_lock": b.objectLock?.enabled == true, "used_bytes": b.usedBytes, "object_count": b.objectCount,
            "max_bytes": b.maxBytes, "max_objects": b.maxObjects, "has_policy": b.policy != nil,
            "has_cors": b.cors != nil, "has_lifecycle": !(b.lifecycle ?? []).isEmpty,
        ]
    }
}
