import Foundation
import HTTPTypes
import Hummingbird
import MaxIOCore
import MaxIOIAM
import MaxIOS3
import MaxIOStorage
import NIOCore

/// Bucket and object ACLs, OwnershipControls and PublicAccessBlock.
extension S3API {
    static let grantHeaders: [(String, ACLPermission)] = [
        ("x-amz-grant-full-control", .fullControl), ("x-amz-grant-read", .read), ("x-amz-grant-write", .write),
        ("x-amz-grant-read-acp", .readACP), ("x-amz-grant-write-acp", .writeACP),
    ]

    static func aclError(_ e: ACLError) -> S3Error {
        switch e {
        case .invalidCanned(let name): return S3Error(.InvalidArgument, "Invalid canned ACL \(name)")
        case .unresolvableEmail(let email):
            return S3Error(.UnresolvableGrantByEmailAddress, nil, extra: [("EmailAddress", email)])
        case .invalidGrantee(let text): return S3Error(.InvalidArgument, "Invalid grantee: \(text)")
        case .cannedAndGrants:
            return S3Error(.InvalidRequest, "Specifying both Canned ACLs and Header Grants is not allowed")
        }
    }

    /// The ACL a request asks for with `x-amz-acl` or `x-amz-grant-*`; nil when it names none.
    func requestedACL(_ call: S3Call, owner: String, bucketOwner: String, forObject: Bool) throws -> AccessControlList?
    {
        var grants: [ACLPermission: String] = [:]
        for (name, permission) in Self.grantHeaders { if let v = call.header(name) { grants[permission] = v } }
        let canned = call.header("x-amz-acl")
        do {
            if canned != nil && !grants.isEmpty { throw ACLError.cannedAndGrants }
            if let canned {
                return try AccessControlList.canned(
                    canned, owner: owner, bucketOwner: bucketOwner, forObject: forObject)
            }
            if grants.isEmpty { return nil }
            return try AccessControlList.fromGrantHeaders(grants, owner: owner)
        } catch let e as ACLError {
            throw Self.aclError(e)
        }
    }

    /// Refuses an ACL the bucket cannot take: any grant to others when ACLs are disabled, a public one under
    /// BlockPublicAcls.
    func checkACLAccepted(_ acl: AccessControlList, bucket: BucketRecord) throws {
        let ownership = bucket.ownership.flatMap(ObjectOwnership.init(rawValue:))
        if ownership == .bucketOwnerEnforced && !acl.onlyOwners(bucketOwner: bucket.owner) {
            throw S3Error(.AccessControlListNotSupported)
        }
        if acl.isPublic, let pab = Self.publicAccessBlock(bucket), pab.blockPublicAcls {
            throw S3Error(.AccessDenied, "Access Denied: BlockPublicAcls is set on this bucket")
        }
    }

    static func publicAccessBlock(_ b: BucketRecord) -> PublicAccessBlock? {
        b.publicAccessBlock.flatMap { try? JSONDecoder().decode(PublicAccessBlock.self, from: Data($0.utf8)) }
    }

    /// Who owns an object written now by the caller: the bucket owner unless the bucket keeps writers as
    /// owners (ObjectWriter, or BucketOwnerPreferred without bucket-owner-full-control).
    func objectOwner(_ call: S3Call, bucket: BucketRecord) -> String {
        switch bucket.ownership.flatMap(ObjectOwnership.init(rawValue:)) {
        case .bucketOwnerEnforced?: return bucket.owner
        case .bucketOwnerPreferred?:
            return call.header("x-amz-acl") == "bucket-owner-full-control" ? bucket.owner : call.ownerID
        case .objectWriter?, nil: return call.ownerID
        }
    }

    /// The ACL to store with a new object (nil: the default, only the owner), checked against the bucket.
    func newObjectACL(_ call: S3Call, bucket: BucketRecord) throws -> String? {
        let owner = objectOwner(call, bucket: bucket)
        let acl = try requestedACL(call, owner: owner, bucketOwner: bucket.owner, forObject: true)
        if let acl { try checkACLAccepted(acl, bucket: bucket) }
        guard bucket.ownership != ObjectOwnership.bucketOwnerEnforced.rawValue else { return nil }
        return (acl ?? AccessControlList(owner: owner, grants: [ACLGrant(.user(owner), .fullControl)])).encoded()
    }

    /// The ACL a write stores with its object: looked up only when the request names one or the bucket has ACLs
    /// enabled (so the common write needs no extra catalog read).
    func objectACLForWrite(_ call: S3Call) async throws -> String? {
        let named = call.header("x-amz-acl") != nil || Self.grantHeaders.contains { call.header($0.0) != nil }
        guard named || call.access?.aclsEnabled == true else { return nil }
        return try newObjectACL(call, bucket: try await existingBucket(call))
    }

    func aclXML(_ acl: AccessControlList) async throws -> String {
        var names: [String: String] = [:]
        func name(_ id: String) async throws -> String {
            if let n = names[id] { return n }
            let n = try await iam.store.user(id: id)?.displayName ?? (id == iam.rootPrincipal.userID ? "admin" : id)
            names[id] = n
            return n
        }
        var w = XMLWriter()
        w.open("AccessControlPolicy")
        w.open("Owner", namespace: nil)
        w.element("ID", acl.owner)
        w.element("DisplayName", try await name(acl.owner))
        w.close("Owner")
        w.open("AccessControlList", namespace: nil)
        var grants = acl.grants
        if !grants.contains(ACLGrant(.user(acl.owner), .fullControl)) {
            grants.insert(ACLGrant(.user(acl.owner), .fullControl), at: 0)
        }
        for g in grants {
            w.open("Grant", namespace: nil)
            switch g.grantee {
            case .user(let id):
                w.raw(
                    "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">")
                w.element("ID", id)
                w.element("DisplayName", try await name(id))
            case .group(let uri):
                w.raw("<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\">")
                w.element("URI", uri)
            }
            w.close("Grantee")
            w.element("Permission", g.permission.rawValue)
            w.close("Grant")
        }
        w.close("AccessControlList")
        w.close("AccessControlPolicy")
        return w.finish()
    }

    /// The ACL of a Put*Acl request: headers, or an AccessControlPolicy body.
    func aclFromRequest(_ call: S3Call, owner: String, bucketOwner: String, forObject: Bool) async throws
        -> AccessControlList
    {
        if let acl = try requestedACL(call, owner: owner, bucketOwner: bucketOwner, forObject: forObject) {
            return acl
        }
        let tooLarge = S3Error(.MalformedACLError)
        let buffer = try await readSmallBody(call, limit: 64 << 10, tooLarge: tooLarge)
        guard buffer.readableBytes > 0 else { throw S3Error(.MissingRequestBodyError) }
        guard let doc = try? XMLParser.parse(Array(buffer.readableBytesView)), doc.name == "AccessControlPolicy",
            let list = doc.child("AccessControlList")
        else { throw S3Error(.MalformedACLError) }
        if let id = doc.child("Owner")?.child("ID")?.text, id != owner {
            throw S3Error(.AccessDenied, "The owner of an ACL cannot be changed.")
        }
        var grants: [ACLGrant] = []
        for g in list.all("Grant") {
            guard let grantee = g.child("Grantee"),
                let permission = g.child("Permission").flatMap({ ACLPermission(rawValue: $0.text) })
            else { throw S3Error(.MalformedACLError) }
            if let id = grantee.child("ID")?.text {
                grants.append(ACLGrant(.user(id), permission))
            } else if let uri = grantee.child("URI")?.text {
                grants.append(ACLGrant(.group(uri), permission))
            } else if let email = grantee.child("EmailAddress")?.text {
                throw Self.aclError(.unresolvableEmail(email))
            } else {
                throw S3Error(.MalformedACLError)
            }
        }
        return AccessControlList(owner: owner, grants: grants)
    }

    // MARK: bucket ACL

    func getBucketAcl(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        let acl =
            (b.ownership == ObjectOwnership.bucketOwnerEnforced.rawValue ? nil : AccessControlList.decode(b.acl))
            ?? AccessControlList(owner: b.owner, grants: [])
        return xmlResponse(try await aclXML(acl))
    }

    func putBucketAcl(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        let acl = try await aclFromRequest(call, owner: b.owner, bucketOwner: b.owner, forObject: false)
        try checkACLAccepted(acl, bucket: b)
        try await metadata.setBucketSetting(bucket: b.name, .acl, value: acl.encoded())
        accessCache.drop(b.name)
        return Response(status: .ok, headers: [.contentLength: "0"])
    }

    // MARK: object ACL

    func getObjectAcl(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        let (_, key) = try requireKey(call)
        let record = try await objects.lookup(bucket: b.name, key: key, versionID: try versionParam(call))
        let acl =
            (b.ownership == ObjectOwnership.bucketOwnerEnforced.rawValue
                ? nil : AccessControlList.decode(record.meta.acl))
            ?? AccessControlList(owner: b.owner, grants: [])
        var response = xmlResponse(try await aclXML(acl))
        if !record.versionID.isEmpty { response.headers[.amzVersionID] = record.versionID }
        return response
    }

    func putObjectAcl(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        let (_, key) = try requireKey(call)
        let version = try versionParam(call)
        let current = try await objects.lookup(bucket: b.name, key: key, versionID: version)
        let owner = AccessControlList.decode(current.meta.acl)?.owner ?? b.owner
        let acl = try await aclFromRequest(call, owner: owner, bucketOwner: b.owner, forObject: true)
        try checkACLAccepted(acl, bucket: b)
        let enforced = b.ownership == ObjectOwnership.bucketOwnerEnforced.rawValue
        let record = try await metadata.updateObject(bucket: b.name, key: key, versionID: version) { meta, _ in
            if !enforced { meta.acl = acl.encoded() }
        }
        var headers = HTTPFields()
        headers[.contentLength] = "0"
        if !record.versionID.isEmpty { headers[.amzVersionID] = record.versionID }
        return Response(status: .ok, headers: headers)
    }

    // MARK: OwnershipControls

    func ownershipFromBody(_ call: S3Call) async throws -> ObjectOwnership {
        guard let doc = try await readXMLBody(call, limit: 16 << 10, required: true),
            doc.name == "OwnershipControls", let rules = doc.all("Rule").first, doc.all("Rule").count == 1,
            let value = rules.child("ObjectOwnership")?.text
        else { throw S3Error(.MalformedXML) }
        guard let o = ObjectOwnership(rawValue: value) else {
            throw S3Error(.MalformedXML, "Invalid ObjectOwnership value: \(value)")
        }
        return o
    }

    func getBucketOwnershipControls(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        guard let o = b.ownership else {
            throw S3Error(
                .OwnershipControlsNotFoundError, "The bucket ownership controls were not found",
                extra: [("BucketName", b.name)])
        }
        var w = XMLWriter()
        w.open("OwnershipControls")
        w.open("Rule", namespace: nil)
        w.element("ObjectOwnership", o)
        w.close("Rule")
        w.close("OwnershipControls")
        return xmlResponse(w.finish())
    }

    func putBucketOwnershipControls(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        let o = try await ownershipFromBody(call)
        if o == .bucketOwnerEnforced, let acl = AccessControlList.decode(b.acl), !acl.onlyOwners(bucketOwner: b.owner) {
            throw S3Error(.InvalidBucketAclWithObjectOwnership)
        }
        try await metadata.setBucketSetting(bucket: b.name, .ownership, value: o.rawValue)
        accessCache.drop(b.name)
        return Response(status: .ok, headers: [.contentLength: "0"])
    }

    func deleteBucketOwnershipControls(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        try await metadata.setBucketSetting(bucket: b.name, .ownership, value: nil)
        accessCache.drop(b.name)
        return Response(status: .noContent)
    }

    // MARK: PublicAccessBlock

    func getPublicAccessBlock(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        guard let pab = Self.publicAccessBlock(b) else {
            throw S3Error(
                .NoSuchPublicAccessBlockConfiguration, "The public access block configuration was not found",
                extra: [("BucketName", b.name)])
        }
        var w = XMLWriter()
        w.open("PublicAccessBlockConfiguration")
        w.element("BlockPublicAcls", pab.blockPublicAcls)
        w.element("IgnorePublicAcls", pab.ignorePublicAcls)
        w.element("BlockPublicPolicy", pab.blockPublicPolicy)
        w.element("RestrictPublicBuckets", pab.restrictPublicBuckets)
        w.close("PublicAccessBlockConfiguration")
        return xmlResponse(w.finish())
    }

    func putPublicAccessBlock(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        guard let doc = try await readXMLBody(call, limit: 16 << 10, required: true),
            doc.name == "PublicAccessBlockConfiguration"
        else { throw S3Error(.MalformedXML) }
        func flag(_ name: String) throws -> Bool {
            guard let t = doc.child(name)?.text.trimmingSpaces().lowercased() else { return false }
            guard t == "true" || t == "false" else { throw S3Error(.MalformedXML) }
            return t == "true"
        }
        let pab = PublicAccessBlock(
            blockPublicAcls: try flag("BlockPublicAcls"), ignorePublicAcls: try flag("IgnorePublicAcls"),
            blockPublicPolicy: try flag("BlockPublicPolicy"), restrictPublicBuckets: try flag("RestrictPublicBuckets"))
        let text = String(decoding: try JSONEncoder().encode(pab), as: UTF8.self)
        try await metadata.setBucketSetting(bucket: b.name, .publicAccessBlock, value: text)
        accessCache.drop(b.name)
        return Response(status: .ok, headers: [.contentLength: "0"])
    }

    func deletePublicAccessBlock(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        try await metadata.setBucketSetting(bucket: b.name, .publicAccessBlock, value: nil)
        accessCache.drop(b.name)
        return Response(status: .noContent)
    }
}
