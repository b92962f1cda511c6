import Foundation
import HTTPTypes
import Hummingbird
import MaxIOCore
import MaxIOS3
import MaxIOStorage

extension S3API {
    // MARK: Get/PutBucketVersioning

    func getBucketVersioning(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        var w = XMLWriter()
        w.open("VersioningConfiguration")
        if b.versioning != .unversioned { w.element("Status", b.versioning.rawValue) }
        w.close("VersioningConfiguration")
        return xmlResponse(w.finish())
    }

    func putBucketVersioning(_ call: S3Call) async throws -> Response {
        let bucket = try requireBucket(call)
        guard let doc = try await readXMLBody(call, limit: 64 << 10, required: true),
            doc.name == "VersioningConfiguration"
        else {
            throw S3Error(.MalformedXML)
        }
        if let mfa = doc.child("MfaDelete")?.text.trimmingSpaces() {
            switch mfa {
            case "Disabled": break
            case "Enabled":
                throw S3Error(.NotImplemented, "MFA delete is not supported by this server.")
            default: throw S3Error(.MalformedXML)
            }
        }
        guard let status = doc.child("Status")?.text.trimmingSpaces() else {
            // No Status: nothing to change (AWS accepts it).
            _ = try await existingBucket(call)
            return Response(status: .ok, headers: [.contentLength: "0"])
        }
        let state: VersioningState
        switch status {
        case "Enabled": state = .enabled
        case "Suspended": state = .suspended
        default: throw S3Error(.MalformedXML)
        }
        do {
            try await metadata.setVersioning(bucket: bucket, state: state)
        } catch StorageError.noSuchBucket {
            throw S3Error(.NoSuchBucket, nil, extra: [("BucketName", bucket)])
        }
        return Response(status: .ok, headers: [.contentLength: "0"])
    }

    // MARK: ListObjectVersions

    func listObjectVersions(_ call: S3Call) async throws -> Response {
        let bucket = try requireBucket(call)
        let maxKeys = try pageSize(call, "max-keys")
        let encodeURL = try urlEncoding(call)
        func enc(_ s: String) -> String { encodeURL ? PercentEncoding.encode(s, keepSlash: true) : s }
        let prefix = call.param("prefix") ?? ""
        let delimiter = call.param("delimiter")
        let keyMarker = call.param("key-marker")
        let versionMarker = call.param("version-id-marker")
        if let v = versionMarker {
            guard keyMarker != nil else {
                throw S3Error(
                    .InvalidArgument, "A version-id marker cannot be specified without a key marker.",
                    extra: [("ArgumentName", "version-id-marker"), ("ArgumentValue", v)])
            }
            try Self.checkVersionSyntax(v)
        }
        // Objects belong to the bucket owner, or (ACLs enabled) to the owner their ACL names.
        var owners = try await listingOwners(call)
        var query = VersionsQuery(
            prefix: prefix, delimiter: delimiter, keyMarker: keyMarker, versionIDMarker: versionMarker,
            maxKeys: maxKeys)
        query.withACLs = owners.aclsEnabled
        let page = try await metadata.listVersions(bucket: bucket, query: query)
        var w = XMLWriter(capacity: 512 + page.versions.count * 400)
        w.open("ListVersionsResult")
        w.element("Name", bucket)
        w.element("Prefix", enc(prefix))
        w.element("KeyMarker", enc(keyMarker ?? ""))
        w.element("VersionIdMarker", versionMarker ?? "")
        if let k = page.nextKeyMarker { w.element("NextKeyMarker", enc(k)) }
        if let v = page.nextVersionIDMarker { w.element("NextVersionIdMarker", v) }
        w.element("MaxKeys", maxKeys)
        if let delimiter { w.element("Delimiter", enc(delimiter)) }
        if encodeURL { w.element("EncodingType", "url") }
        w.element("IsTruncated", page.isTruncated)
        for v in page.versions {
            let name = v.isDeleteMarker ? "DeleteMarker" : "Version"
            w.open(name, namespace: nil)
            w.element("Key", enc(v.key))
            w.element("VersionId", v.versionID)
            w.element("IsLatest", v.isLatest)
            w.element("LastModified", WireDate.iso8601(v.lastModified))
            if !v.isDeleteMarker {
                w.element("ETag", "\"\(v.etag)\"")
                w.element("Size", v.size)
                w.element("StorageClass", v.storageClass)
            }
            let (ownerID, ownerName) = try await owners.name(owners.owner(acl: v.acl))
            w.open("Owner", namespace: nil)
            w.element("ID", ownerID)
            w.element("DisplayName", ownerName)
            w.close("Owner")
            w.close(name)
        }
        for p in page.commonPrefixes {
            w.open("CommonPrefixes", namespace: nil)
            w.element("Prefix", enc(p))
            w.close("CommonPrefixes")
        }
        w.close("ListVersionsResult")
        return xmlResponse(w.finish())
    }
}
