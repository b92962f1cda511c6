import Foundation
import Hummingbird
import MaxIOCore
import MaxIOS3
import MaxIOSigV4
import MaxIOStorage

extension S3API {
    /// A page-size parameter (`max-keys`, `max-uploads`, `max-parts`): 1000 by default, larger values capped
    /// at 1000, negative or non-integer values refused.
    func pageSize(_ call: S3Call, _ name: String) throws -> Int {
        guard let m = call.query[name] else { return 1000 }
        guard let v = Int(m), v >= 0 else {
            throw S3Error(.InvalidArgument, "Provided \(name) not an integer or within integer range")
        }
        return min(v, 1000)
    }

    /// `encoding-type`: absent or `url`.
    func urlEncoding(_ call: S3Call) throws -> Bool {
        switch call.query["encoding-type"] {
        case nil: return false
        case "url"?: return true
        default: throw S3Error(.InvalidArgument, "Invalid Encoding Method specified in Request")
        }
    }

    func listObjects(_ call: S3Call, v2: Bool) async throws -> Response {
        let bucket = try requireBucket(call)
        let q = call.query
        let maxKeys = try pageSize(call, "max-keys")
        let encodeURL = try urlEncoding(call)
        let prefix = call.param("prefix") ?? ""
        let delimiter = call.param("delimiter")
        var after: String?
        if v2 {
            if let token = q["continuation-token"] {
                guard let d = Data(base64Encoded: token), let s = String(data: d, encoding: .utf8) else {
                    throw S3Error(.InvalidArgument, "The continuation token provided is incorrect")
                }
                after = s
            } else if let sa = q["start-after"], !sa.isEmpty {
                after = sa
            }
        } else if let marker = q["marker"], !marker.isEmpty {
            after = marker
        }
        let owner = !v2 || q["fetch-owner"] == "true"
        var owners = owner ? try await listingOwners(call) : nil
        var query = ListQuery(prefix: prefix, delimiter: delimiter, after: after, maxKeys: maxKeys)
        query.withACLs = owners?.aclsEnabled == true
        let page = try await metadata.listObjects(bucket: bucket, query: query)
        func enc(_ s: String) -> String { encodeURL ? PercentEncoding.encode(s, keepSlash: true) : s }

        var w = XMLWriter(capacity: 512 + page.objects.count * 300 + page.commonPrefixes.count * 80)
        w.open("ListBucketResult")
        w.element("Name", bucket)
        w.element("Prefix", enc(prefix))
        if v2 {
            if let t = q["continuation-token"] { w.element("ContinuationToken", t) }
            if let sa = q["start-after"] { w.element("StartAfter", enc(sa)) }
            w.element("KeyCount", page.objects.count + page.commonPrefixes.count)
        } else {
            w.element("Marker", enc(q["marker"] ?? ""))
        }
        w.element("MaxKeys", maxKeys)
        if let delimiter { w.element("Delimiter", enc(delimiter)) }
        if encodeURL { w.element("EncodingType", "url") }
        w.element("IsTruncated", page.isTruncated)
        if page.isTruncated, let last = page.lastItem {
            if v2 {
                w.element("NextContinuationToken", Data(last.utf8).base64EncodedString())
            } else if delimiter != nil {
                // As AWS: v1 names the next marker only with a delimiter; otherwise clients use the last key.
                w.element("NextMarker", enc(last))
            }
        }
        for o in page.objects {
            w.open("Contents", namespace: nil)
            w.element("Key", enc(o.key))
            w.element("LastModified", WireDate.iso8601(o.lastModified))
            w.element("ETag", "\"\(o.etag)\"")
            w.element("Size", o.size)
            if owners != nil, let id = owners?.owner(acl: o.acl), let (ownerID, ownerName) = try await owners?.name(id)
            {
                w.open("Owner", namespace: nil)
                w.element("ID", ownerID)
                w.element("DisplayName", ownerName)
                w.close("Owner")
            }
            w.element("StorageClass", o.storageClass)
            w.close("Contents")
        }
        for p in page.commonPrefixes {
            w.open("CommonPrefixes", namespace: nil)
            w.element("Prefix", enc(p))
            w.close("CommonPrefixes")
        }
        w.close("ListBucketResult")
        return xmlResponse(w.finish())
    }
}
