import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MaxIOCore
import MaxIOIAM
import MaxIOS3
import MaxIOSigV4
import MaxIOStorage
import NIOCore

package struct S3APIConfig: Sendable {
    package var region: String
    /// Base domains for virtual-host-style requests (`bucket.<domain>`); empty disables them.
    package var domains: [String]
    /// Seconds in a lifecycle day (for `x-amz-expiration`).
    package var lifecycleDay: TimeInterval
    /// The S3 port speaks HTTPS (`aws:SecureTransport`).
    package var secureTransport: Bool
    /// Seal every new object with the server key (SSE-S3) whatever the request says.
    package var encryptAtRest = true
    /// Accept SSE-C over plain HTTP (for tests; AWS requires TLS, and a key sent in clear is compromised).
    package var customerKeysOverHTTP = false

    package init(
        region: String, domains: [String], lifecycleDay: TimeInterval = 86400, secureTransport: Bool = false,
        encryptAtRest: Bool = true, customerKeysOverHTTP: Bool = false
    ) {
        self.encryptAtRest = encryptAtRest
        self.customerKeysOverHTTP = customerKeysOverHTTP
        self.secureTransport = secureTransport
        self.region = region
        self.domains = domains
        self.lifecycleDay = lifecycleDay
    }
}

/// One S3 request as the handlers see it: resolved, authenticated, with its decoded target.
struct S3Call {
    let request: Request
    /// The client's connection (its address for policies and the audit log).
    let channel: any Channel
    let state: RequestState
    let operation: S3Operation
    let requestID: String
    let bucket: String?
    let key: String?
    let query: [String: String]
    /// nil for anonymous requests.
    let identity: Identity?
    let auth: VerifiedAuth
    /// The bucket as authorization saw it (nil for global administrators and service-level operations).
    var access: BucketAccess? = nil
    /// The resource named in error documents (`/bucket/key`).
    let resource: String

    func header(_ name: HTTPField.Name) -> String? { request.headers[name] }
    var principal: Principal? { identity?.principal }
    /// The canonical id of the requester, for Owner blocks.
    var ownerID: String { identity?.principal.userID ?? anonymousOwnerID }
    var displayName: String { identity?.principal.displayName ?? "anonymous" }
    /// A query parameter; an empty value counts as absent (as S3 treats `prefix=`, `key-marker=` and the like).
    func param(_ name: String) -> String? { query[name].flatMap { $0.isEmpty ? nil : $0 } }
    func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { request.headers[$0] } }
}

/// The S3 front: parse target -> resolve operation -> verify signature -> handler. Every error becomes
/// S3 XML in `respond`, the one place where errors are translated.
package struct S3API: HTTPResponder {
    package typealias Context = S3RequestContext

    let config: S3APIConfig
    let iam: IAMService
    let objects: ObjectService
    let logger: Logger
    /// Lifecycle rules by bucket, for `x-amz-expiration`.
    let lifecycleCache = LifecycleCache()
    /// Bucket owners, policies and grants for authorization.
    let accessCache = BucketAccessCache()
    package let metrics: S3Metrics
    /// Records bucket configuration changes and quota denials (and object writes when `auditObjects`).
    let audit: AuditLog?
    /// Rate and concurrency limits, and whether object writes are audited, as they are now.
    let settings: RuntimeSettings
    let limiter = RateLimiter()
    /// CORS rules by bucket, for requests from browsers.
    let corsCache = CORSCache()
    /// Buckets' default encryption (nil: none), for writes that name none.
    let encryptionCache = BucketValueCache<BucketEncryption?>()

    package init(
        config: S3APIConfig, iam: IAMService, objects: ObjectService, logger: Logger,
        metrics: S3Metrics = S3Metrics(), audit: AuditLog? = nil, settings: RuntimeSettings = RuntimeSettings(.init())
    ) {
        self.settings = settings
        self.metrics = metrics
        self.audit = audit
        self.config = config
        self.iam = iam
        self.objects = objects
        self.logger = logger
    }

    var metadata: any MetadataStore { objects.metadata }

    package func respond(to request: Request, context: S3RequestContext) async throws -> Response {
        await serve(request, channel: context.channel, actingAs: nil)
    }

    /// An S3 request made by the web console on behalf of a signed-in user (the console authenticated the
    /// session): the same pipeline as `respond`, authorization, limits, audit and metrics included, with the
    /// user as the requester instead of a signature. The path is the S3 path (`/bucket/key`).
    package func respond(to request: Request, channel: any Channel, onBehalfOf principal: Principal) async
        -> Response
    {
        await serve(
            request, channel: channel,
            actingAs: Identity(accessKey: "console:" + principal.userID, secret: "", principal: principal))
    }

    func serve(_ request: Request, channel: any Channel, actingAs acting: Identity?) async -> Response {
        let requestID = Self.newRequestID()
        let startedAt = ContinuousClock.now
        let inFlight = metrics.begin()
        let limits = settings.values
        var operationName = "Unknown"
        let expects = request.headers[.expect]?.lowercased() == "100-continue"
        let state = RequestState(expectsContinue: expects, channel: channel)
        var resource = request.uri.path
        var target = S3Target(bucket: nil, key: nil)
        var versionID: String?
        var response: Response
        var operation: S3Operation?
        var identity: Identity?
        var errorCode: S3ErrorCode?
        do {
            if limits.s3MaxConcurrentRequests > 0 && inFlight > limits.s3MaxConcurrentRequests {
                throw S3Error(.SlowDown)
            }
            let rawPath = request.uri.path
            guard let path = PercentEncoding.decode(rawPath) else { throw S3Error(.InvalidURI) }
            resource = path
            var host = request.head.authority
            if let h = host, let colon = h.lastIndex(of: ":"), !h.hasSuffix("]") { host = String(h[..<colon]) }
            target = S3Target.parse(path: path, host: host, domains: config.domains)
            if let bucket = target.bucket { resource = "/" + bucket + (target.key.map { "/" + $0 } ?? "") }
            if request.method == .options {
                // A browser's CORS preflight: answered from the bucket's CORS rules, never authenticated.
                operationName = "PreflightCORS"
                response = try await corsPreflight(request, bucket: target.bucket)
            } else {
                let rawQuery = request.uri.query ?? ""
                let queryItems = SigV4.parseQuery(rawQuery)
                var query: [String: String] = [:]
                for item in queryItems where query[item.name] == nil { query[item.name] = item.value }
                versionID = query["versionId"]
                let route = S3Route.resolve(
                    method: request.method.rawValue, target: target, query: Set(query.keys),
                    hasCopySource: request.headers[HTTPField.Name("x-amz-copy-source")!] != nil)
                if case .operation(let op) = route {
                    operationName = op.rawValue
                    operation = op
                }
                guard case .operation(let operation) = route else {
                    let kind = target.bucket == nil ? "SERVICE" : target.key == nil ? "BUCKET" : "OBJECT"
                    throw S3Error(
                        .MethodNotAllowed, extra: [("Method", request.method.rawValue), ("ResourceType", kind)])
                }

                // The console's gateway has authenticated its user already (a session, not a signature).
                let (caller, auth): (Identity?, VerifiedAuth)
                if let acting {
                    (caller, auth) = (acting, VerifiedAuth(accessKey: acting.accessKey, payload: .unsigned))
                } else {
                    (caller, auth) = try await authenticate(
                        queryItems: queryItems,
                        request, rawQuery: rawQuery, bucketFromHost: target.virtualHost ? target.bucket : nil)
                }
                if limits.s3RequestsPerSecond > 0 {
                    let who = caller?.accessKey ?? "ip:" + (channel.remoteAddress?.ipAddress ?? "")
                    let rate = limits.s3RequestsPerSecond
                    guard limiter.allow(who, rate: rate, burst: max(1, rate)) else { throw S3Error(.SlowDown) }
                }
                var call = S3Call(
                    request: request, channel: channel, state: state, operation: operation, requestID: requestID,
                    bucket: target.bucket, key: target.key, query: query, identity: caller, auth: auth,
                    resource: resource)
                identity = caller
                // A browser upload is authenticated by its form, which the handler reads first.
                if operation != .PostObject { call.access = try await authorize(call) }
                try await checkExpectedOwner(call)
                response = try await dispatch(call)
            }
        } catch {
            let e = s3Error(error, requestID: requestID)
            errorCode = e.code
            response = errorResponse(
                e, resource: resource, target: target, versionID: versionID, requestID: requestID,
                method: request.method)
            if state.mustCloseOnError {
                response.headers[.connection] = "close"
                channel.close(mode: .input, promise: nil)
            }
        }
        if request.method != .options, let bucket = target.bucket, request.headers[.origin] != nil {
            await addCORSHeaders(&response, request: request, bucket: bucket)
        }
        response.headers[HTTPField.Name("x-amz-request-id")!] = requestID
        response.headers[HTTPField.Name("x-amz-id-2")!] = requestID
        response.headers[.server] = "MaxIOFS"
        if let audit, let action = Self.auditAction(operation, errorCode, objects: limits.auditObjects) {
            let p = identity?.principal
            var detail: [String: String] = ["operation": operationName, "status": String(response.status.code)]
            if let code = errorCode { detail["error"] = code.rawValue }
            if let v = versionID { detail["version_id"] = v }
            await audit.record(
                AuditEntry(
                    actor: p?.userName ?? "anonymous", actorID: p?.userID, tenantID: p?.tenantID,
                    tenantName: p?.tenantName, sourceIP: channel.remoteAddress?.ipAddress, action: action,
                    resource: resource,
                    result: errorCode == nil ? "success" : errorCode == .AccessDenied ? "denied" : "failure",
                    requestID: requestID, detail: AuditLog.detail(detail)))
        }
        let elapsed = ContinuousClock.now - startedAt
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        logger.debug(
            "request",
            metadata: [
                "request_id": "\(requestID)", "operation": "\(operationName)", "status": "\(response.status.code)",
                "method": "\(request.method.rawValue)", "resource": "\(resource)",
                "ms": "\(Int((seconds * 1000).rounded()))",
            ])
        metrics.end(
            operation: operationName, status: response.status.code,
            seconds: seconds,
            received: request.headers[.contentLength].flatMap(Int.init) ?? 0,
            sent: request.method == .head
                ? 0 : response.headers[.contentLength].flatMap(Int.init) ?? response.body.contentLength ?? 0)
        return response
    }

    /// The audit action of an S3 request, or nil when it is not audited: bucket creation and deletion, changes
    /// of a bucket's access, protection or lifecycle, every quota denial, and (when configured) object writes and
    /// deletes. A request refused before its signature was checked is recorded as `anonymous` with its error
    /// (a bad signature on CreateBucket, for example); one whose operation was never resolved is not recorded.
    static func auditAction(_ operation: S3Operation?, _ error: S3ErrorCode?, objects: Bool) -> String? {
        if error == .QuotaExceeded || error == .TooManyBuckets { return "quota.denied" }
        guard let operation else { return nil }
        switch operation {
        case .CreateBucket: return "bucket.create"
        case .DeleteBucket: return "bucket.delete"
        case .PutBucketPolicy: return "bucket.policy.put"
        case .DeleteBucketPolicy: return "bucket.policy.delete"
        case .PutBucketAcl: return "bucket.acl.put"
        case .PutObjectAcl: return "object.acl.put"
        case .PutBucketOwnershipControls: return "bucket.ownership.put"
        case .DeleteBucketOwnershipControls: return "bucket.ownership.delete"
        case .PutPublicAccessBlock: return "bucket.public-access-block.put"
        case .DeletePublicAccessBlock: return "bucket.public-access-block.delete"
        case .PutBucketVersioning: return "bucket.versioning.put"
        case .PutObjectLockConfiguration: return "bucket.object-lock.put"
        case .PutObjectRetention: return "object.retention.put"
        case .PutObjectLegalHold: return "object.legal-hold.put"
        case .PutBucketCors: return "bucket.cors.put"
        case .DeleteBucketCors: return "bucket.cors.delete"
        case .PutBucketEncryption: return "bucket.encryption.put"
        case .DeleteBucketEncryption: return "bucket.encryption.delete"
        case .PutBucketLifecycleConfiguration: return "bucket.lifecycle.put"
        case .DeleteBucketLifecycle: return "bucket.lifecycle.delete"
        case .PutObject, .CopyObject, .CompleteMultipartUpload, .PostObject: return objects ? "object.write" : nil
        case .DeleteObject, .DeleteObjects: return objects ? "object.delete" : nil
        default: return nil
        }
    }

    static func newRequestID() -> String {
        randomHexID(bytes: 8).uppercased()
    }

    // MARK: authentication

    func authenticate(
        queryItems: [(name: String, value: String)], _ request: Request, rawQuery: String, bucketFromHost: String?
    ) async throws -> (
        Identity?, VerifiedAuth
    ) {
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(request.headers.count + 1)
        if let authority = request.head.authority { headers.append(("host", authority)) }
        for field in request.headers { headers.append((field.name.canonicalName, field.value)) }
        let signable = SignableRequest(
            method: request.method.rawValue, rawPath: request.uri.path, rawQuery: rawQuery, headers: headers,
            queryItems: queryItems)
        // Anonymous requests go on as nobody: only a bucket policy can let them through.
        if SigV4.isAnonymous(signable) { return (nil, .anonymous) }
        if SigV2.isV2(signable) {
            let parsed = try SigV2.parse(signable, now: Date())
            guard let identity = try await iam.identity(accessKey: parsed.accessKey) else {
                throw SignatureError(.invalidAccessKeyId, accessKey: parsed.accessKey)
            }
            let verified = try SigV2.verify(
                parsed, secret: identity.secret, request: signable, bucketFromHost: bucketFromHost)
            return (try usable(identity), verified)
        }
        let parsed = try SigV4.parse(signable, now: Date())
        guard let identity = try await iam.identity(accessKey: parsed.credential.accessKey) else {
            throw SignatureError(.invalidAccessKeyId, accessKey: parsed.credential.accessKey)
        }
        let verified = try SigV4.verify(parsed, secret: identity.secret, request: signable, region: config.region)
        return (try usable(identity), verified)
    }

    /// A correctly signed request of a key that may not be used: an inactive key reads as unknown (as AWS
    /// answers), a disabled user or suspended tenant as AccessDenied.
    func usable(_ identity: Identity) throws -> Identity {
        guard let reason = identity.disabledReason else { return identity }
        if reason == "key" { throw SignatureError(.invalidAccessKeyId, accessKey: identity.accessKey) }
        throw S3Error(.AccessDenied, reason)
    }

    // MARK: dispatch

    /// Headers asking for features this server does not have yet. Accepting them silently would store
    /// data without the protection the client asked for.
    static let unsupportedHeaders: [(name: String, feature: String)] = [
        ("x-amz-server-side-encryption-aws-kms-key-id", "Server-side encryption with KMS keys"),
        ("x-amz-server-side-encryption-context", "Server-side encryption with KMS keys"),
        ("x-amz-website-redirect-location", "Website redirects"),
    ]

    func rejectUnsupportedHeaders(_ call: S3Call) throws {
        // One pass over the request's headers (few) rather than a lookup per unsupported name.
        for field in call.request.headers where field.name.canonicalName.hasPrefix("x-amz-") {
            let name = field.name.canonicalName
            if let feature = Self.unsupportedHeaders.first(where: { $0.name == name })?.feature {
                throw S3Error(.NotImplemented, "\(feature) is not implemented by this server yet (header \(name)).")
            }
        }
    }

    func dispatch(_ call: S3Call) async throws -> Response {
        try rejectUnsupportedHeaders(call)
        if let key = call.key, let doc = SOSAPI.document(for: key) {
            // The SOSAPI objects are virtual: read them, nothing else.
            switch call.operation {
            case .GetObject: return try await sosapiObject(call, doc, head: false)
            case .HeadObject: return try await sosapiObject(call, doc, head: true)
            default: throw Self.sosapiReadOnly
            }
        }
        switch call.operation {
        case .ListBuckets: return try await listBuckets(call)
        case .CreateBucket: return try await createBucket(call)
        case .HeadBucket: return try await headBucket(call)
        case .DeleteBucket: return try await deleteBucket(call)
        case .GetBucketLocation: return try await getBucketLocation(call)
        case .ListObjects: return try await listObjects(call, v2: false)
        case .ListObjectsV2: return try await listObjects(call, v2: true)
        case .PutObject: return try await putObject(call)
        case .PostObject: return try await postObject(call)
        case .GetObject: return try await getObject(call, head: false)
        case .HeadObject: return try await getObject(call, head: true)
        case .DeleteObject: return try await deleteObject(call)
        case .DeleteObjects: return try await deleteObjects(call)
        case .CopyObject: return try await copyObject(call)
        case .CreateMultipartUpload: return try await createMultipartUpload(call)
        case .UploadPart: return try await uploadPart(call)
        case .UploadPartCopy: return try await uploadPartCopy(call)
        case .CompleteMultipartUpload: return try await completeMultipartUpload(call)
        case .AbortMultipartUpload: return try await abortMultipartUpload(call)
        case .ListParts: return try await listParts(call)
        case .ListMultipartUploads: return try await listMultipartUploads(call)
        case .GetObjectAttributes: return try await getObjectAttributes(call)
        case .GetBucketVersioning: return try await getBucketVersioning(call)
        case .PutBucketVersioning: return try await putBucketVersioning(call)
        case .ListObjectVersions: return try await listObjectVersions(call)
        case .GetObjectTagging: return try await getObjectTagging(call)
        case .PutObjectTagging: return try await putObjectTagging(call)
        case .DeleteObjectTagging: return try await deleteObjectTagging(call)
        case .GetBucketTagging: return try await getBucketTagging(call)
        case .PutBucketTagging: return try await putBucketTagging(call)
        case .DeleteBucketTagging: return try await deleteBucketTagging(call)
        case .GetObjectLockConfiguration: return try await getObjectLockConfiguration(call)
        case .PutObjectLockConfiguration: return try await putObjectLockConfiguration(call)
        case .GetObjectRetention: return try await getObjectRetention(call)
        case .PutObjectRetention: return try await putObjectRetention(call)
        case .GetObjectLegalHold: return try await getObjectLegalHold(call)
        case .PutObjectLegalHold: return try await putObjectLegalHold(call)
        case .GetBucketLifecycleConfiguration: return try await getBucketLifecycleConfiguration(call)
        case .PutBucketLifecycleConfiguration: return try await putBucketLifecycleConfiguration(call)
        case .DeleteBucketLifecycle: return try await deleteBucketLifecycle(call)
        case .PutBucketCors: return try await putBucketCors(call)
        case .GetBucketCors: return try await getBucketCors(call)
        case .DeleteBucketCors: return try await deleteBucketCors(call)
        case .PutBucketEncryption: return try await putBucketEncryption(call)
        case .GetBucketEncryption: return try await getBucketEncryption(call)
        case .DeleteBucketEncryption: return try await deleteBucketEncryption(call)
        case .PutBucketPolicy: return try await putBucketPolicy(call)
        case .GetBucketPolicy: return try await getBucketPolicy(call)
        case .DeleteBucketPolicy: return try await deleteBucketPolicy(call)
        case .GetBucketPolicyStatus: return try await getBucketPolicyStatus(call)
        case .GetBucketAcl: return try await getBucketAcl(call)
        case .PutBucketAcl: return try await putBucketAcl(call)
        case .GetObjectAcl: return try await getObjectAcl(call)
        case .PutObjectAcl: return try await putObjectAcl(call)
        case .GetBucketOwnershipControls: return try await getBucketOwnershipControls(call)
        case .PutBucketOwnershipControls: return try await putBucketOwnershipControls(call)
        case .DeleteBucketOwnershipControls: return try await deleteBucketOwnershipControls(call)
        case .GetPublicAccessBlock: return try await getPublicAccessBlock(call)
        case .PutPublicAccessBlock: return try await putPublicAccessBlock(call)
        case .DeletePublicAccessBlock: return try await deletePublicAccessBlock(call)
        default:
            throw S3Error(.NotImplemented, "\(call.operation.rawValue) is not implemented by this server yet.")
        }
    }

    // MARK: responses

    func xmlResponse(_ xml: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: xml)))
    }

    /// The one translation of errors into S3 errors.
    func s3Error(_ error: any Error, requestID: String) -> S3Error {
        switch error {
        case let e as S3Error:
            return e
        case let e as StorageError:
            switch e {
            case .noSuchBucket: return S3Error(.NoSuchBucket)
            case .bucketAlreadyExists: return S3Error(.BucketAlreadyExists)
            case .bucketAlreadyOwnedByYou: return S3Error(.BucketAlreadyOwnedByYou)
            case .bucketNotEmpty: return S3Error(.BucketNotEmpty)
            case .noSuchKey: return S3Error(.NoSuchKey)
            case .noSuchVersion: return S3Error(.NoSuchVersion)
            case .deleteMarker(let versionID, let requested, let lastModified):
                let headers = [
                    ("x-amz-delete-marker", "true"), ("x-amz-version-id", versionID),
                    ("Last-Modified", WireDate.http(lastModified)),
                ]
                if requested {
                    return S3Error(
                        .MethodNotAllowed, "The specified method is not allowed against this resource.",
                        extra: [("Method", "GET"), ("ResourceType", "DeleteMarker")],
                        headers: headers + [("Allow", "DELETE")])
                }
                return S3Error(.NoSuchKey, nil, headers: headers)
            case .preconditionFailed: return S3Error(.PreconditionFailed)
            case .badDigest: return S3Error(.BadDigest)
            case .checksumMismatch(let algorithm):
                return S3Error(
                    .BadDigest, "The \(algorithm.rawValue) you specified did not match the calculated checksum.")
            case .contentSHA256Mismatch: return S3Error(.XAmzContentSHA256Mismatch)
            case .incompleteBody: return S3Error(.IncompleteBody)
            case .entityTooLarge: return S3Error(.EntityTooLarge)
            case .noSuchUpload: return S3Error(.NoSuchUpload)
            case .invalidPart(let n):
                return S3Error(
                    .InvalidPart,
                    "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
                    extra: [("PartNumber", String(n))])
            case .invalidPartOrder: return S3Error(.InvalidPartOrder)
            case .entityTooSmall(let n, let size):
                return S3Error(
                    .EntityTooSmall, nil,
                    extra: [
                        ("ProposedSize", String(size)), ("MinSizeAllowed", String(MultipartLimits.minPartSize)),
                        ("PartNumber", String(n)),
                    ])
            case .invalidRequest(let message): return S3Error(.InvalidRequest, message)
            case .objectLocked(let message): return S3Error(.AccessDenied, message)
            case .invalidBucketState(let message): return S3Error(.InvalidBucketState, message)
            case .noObjectLockConfiguration: return S3Error(.NoSuchObjectLockConfiguration)
            case .quotaExceeded(let message): return S3Error(.QuotaExceeded, message)
            case .tooManyBuckets: return S3Error(.TooManyBuckets)
            case .customerKeyRequired:
                return S3Error(
                    .InvalidRequest,
                    "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object."
                )
            case .customerKeyMismatch:
                return S3Error(
                    .AccessDenied,
                    "The provided encryption key does not match the key the object was stored with.")
            case .customerKeyNotApplicable:
                return S3Error(.InvalidRequest, "The encryption parameters are not applicable to this object.")
            case .checksumTypeMismatch(let upload, let requested):
                return S3Error(
                    .BadDigest,
                    "The upload was created with checksum type \(upload ?? "none"), not \(requested).")
            case .io(let detail):
                logger.error("storage I/O error", metadata: ["detail": "\(detail)", "request_id": "\(requestID)"])
                return S3Error(.InternalError)
            }
        case let e as SignatureError:
            switch e.code {
            case .authorizationHeaderMalformed:
                return S3Error(
                    .AuthorizationHeaderMalformed, e.message, extra: e.expectedRegion.map { [("Region", $0)] } ?? [])
            case .authorizationQueryParametersError:
                return S3Error(
                    .AuthorizationQueryParametersError, e.message,
                    extra: e.expectedRegion.map { [("Region", $0)] } ?? [])
            case .missingSecurityHeader: return S3Error(.InvalidRequest, e.message)
            case .invalidAccessKeyId:
                return S3Error(.InvalidAccessKeyId, nil, extra: [("AWSAccessKeyId", e.accessKey ?? "")])
            case .signatureDoesNotMatch:
                var extra: [(String, String)] = []
                if let a = e.accessKey { extra.append(("AWSAccessKeyId", a)) }
                if let s = e.stringToSign {
                    extra.append(("StringToSign", s))
                    if let p = e.signatureProvided { extra.append(("SignatureProvided", p)) }
                    extra.append(("StringToSignBytes", Array(s.utf8).map { Hex.encode([$0]) }.joined(separator: " ")))
                }
                if let c = e.canonicalRequest {
                    extra.append(("CanonicalRequest", c))
                    extra.append(
                        ("CanonicalRequestBytes", Array(c.utf8).map { Hex.encode([$0]) }.joined(separator: " ")))
                }
                return S3Error(.SignatureDoesNotMatch, e.message, extra: extra)
            case .requestExpired: return S3Error(.AccessDenied, e.message ?? "Request has expired")
            case .requestTimeTooSkewed: return S3Error(.RequestTimeTooSkewed)
            case .contentSHA256Mismatch: return S3Error(.XAmzContentSHA256Mismatch)
            case .invalidContentSHA256: return S3Error(.InvalidArgument, e.message)
            case .unsupportedAlgorithm: return S3Error(.InvalidRequest, e.message)
            case .accessDenied:
                return S3Error(
                    .AccessDenied, e.message, extra: e.headersNotSigned.map { [("HeadersNotSigned", $0)] } ?? [])
            case .incompleteBody: return S3Error(.IncompleteBody)
            case .malformedChunk: return S3Error(.IncompleteBody, "The aws-chunked body is malformed.")
            case .missingContentLength: return S3Error(.MissingContentLength)
            case .invalidArgument: return S3Error(.InvalidArgument, e.message)
            }
        default:
            logger.error(
                "internal error", metadata: ["error": "\(String(reflecting: error))", "request_id": "\(requestID)"])
            return S3Error(.InternalError)
        }
    }

    func errorResponse(
        _ error: S3Error, resource: String, target: S3Target, versionID: String?, requestID: String,
        method: HTTPRequest.Method
    ) -> Response {
        var e = error
        // A 405 names the method of this request.
        if e.code == .MethodNotAllowed, let i = e.extra.firstIndex(where: { $0.0 == "Method" }) {
            e.extra[i].1 = method.rawValue
        }
        // Name the missing resource, as AWS does, unless the handler already did.
        if !e.extra.contains(where: { $0.0 == "Key" || $0.0 == "BucketName" }) {
            switch e.code {
            case .NoSuchKey: if let k = target.key { e.extra.append(("Key", k)) }
            case .NoSuchVersion:
                if let k = target.key { e.extra.append(("Key", k)) }
                if let v = versionID { e.extra.append(("VersionId", v)) }
            case .NoSuchBucket, .BucketNotEmpty, .BucketAlreadyExists, .BucketAlreadyOwnedByYou:
                if let b = target.bucket { e.extra.append(("BucketName", b)) }
            default: break
            }
        }
        var headers = HTTPFields()
        for (k, v) in e.headers { if let n = HTTPField.Name(k) { headers[n] = v } }
        let status = HTTPResponse.Status(code: e.code.status)
        if method == .head || e.code == .NotModified {
            // HEAD responses and 304 carry no body.
            headers[.contentLength] = "0"
            return Response(status: status, headers: headers, body: .init())
        }
        headers[.contentType] = "application/xml"
        let body = ByteBuffer(string: e.xml(resource: resource, requestID: requestID))
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }
}
