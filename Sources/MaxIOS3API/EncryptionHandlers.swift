import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import MaxIOCore
import MaxIOS3
import MaxIOStorage
import NIOCore

extension HTTPField.Name {
    static let amzSSE = HTTPField.Name("x-amz-server-side-encryption")!
    static let amzSSECAlgorithm = HTTPField.Name("x-amz-server-side-encryption-customer-algorithm")!
    static let amzSSECKey = HTTPField.Name("x-amz-server-side-encryption-customer-key")!
    static let amzSSECKeyMD5 = HTTPField.Name("x-amz-server-side-encryption-customer-key-MD5")!
}

/// A customer key (SSE-C) a request sent: the key and the base64 MD5 to echo in responses.
struct CustomerKeyHeaders {
    var key: [UInt8]
    var md5: String
}

/// A bucket's default encryption (PutBucketEncryption), stored as JSON.
struct BucketEncryption: Codable, Equatable, Sendable {
    var algorithm: String
    var bucketKeyEnabled: Bool
}

/// Server-side encryption: request headers to sealing, response headers, and Put/Get/DeleteBucketEncryption.
extension S3API {
    /// The SSE-C headers of a request (`copySource`: the `x-amz-copy-source-…` ones); nil when it sent none.
    /// Writes must carry all three; reads may leave out the MD5 (as AWS).
    func customerKey(_ call: S3Call, copySource: Bool = false, write: Bool = false) throws -> CustomerKeyHeaders? {
        let prefix =
            copySource ? "x-amz-copy-source-server-side-encryption-customer-" : "x-amz-server-side-encryption-customer-"
        let algorithm = call.header(prefix + "algorithm")
        let keyText = call.header(prefix + "key")
        let md5Text = call.header(prefix + "key-md5")
        guard algorithm != nil || keyText != nil || md5Text != nil else { return nil }
        if !config.secureTransport && !config.customerKeysOverHTTP {
            throw S3Error(
                .InvalidRequest,
                "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection."
            )
        }
        guard let algorithm else {
            throw S3Error(
                .InvalidArgument,
                "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
                extra: [("ArgumentName", prefix + "algorithm"), ("ArgumentValue", "null")])
        }
        guard algorithm == SSEAlgorithm.aes256 else {
            throw S3Error(
                .InvalidEncryptionAlgorithmError,
                "The encryption request you specified is not valid. The valid value is AES256.",
                extra: [("ArgumentName", prefix + "algorithm"), ("ArgumentValue", algorithm)])
        }
        guard let keyText else {
            throw S3Error(
                .InvalidArgument,
                "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.",
                extra: [("ArgumentName", prefix + "key"), ("ArgumentValue", "null")])
        }
        guard let key = Data(base64Encoded: keyText), key.count == 32 else {
            throw S3Error(
                .InvalidArgument, "The secret key was invalid for the specified algorithm.",
                extra: [("ArgumentName", prefix + "key"), ("ArgumentValue", "null")])
        }
        let computed = Data(Insecure.MD5.hash(data: key)).base64EncodedString()
        if let md5Text {
            guard md5Text == computed else {
                throw S3Error(
                    .InvalidArgument, "The calculated MD5 hash of the key did not match the hash that was provided.",
                    extra: [("ArgumentName", prefix + "key-MD5"), ("ArgumentValue", md5Text)])
            }
        } else if write {
            throw S3Error(
                .InvalidArgument,
                "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.",
                extra: [("ArgumentName", prefix + "key-MD5"), ("ArgumentValue", "null")])
        }
        return CustomerKeyHeaders(key: Array(key), md5: computed)
    }

    /// Refuses `x-amz-server-side-encryption` on a read (AWS answers 400: it is a write header).
    func rejectSSEOnRead(_ call: S3Call) throws {
        if call.header(.amzSSE) != nil {
            throw S3Error(
                .InvalidArgument, "x-amz-server-side-encryption header is not supported for this operation.",
                extra: [("ArgumentName", "x-amz-server-side-encryption"), ("ArgumentValue", call.header(.amzSSE)!)])
        }
    }

    /// How a new object (or upload) of `bucket` is sealed: with the customer key it sent; with the server key
    /// when it asks for SSE-S3, when the bucket's default encryption says so, or when the server encrypts every
    /// object at rest; else not at all.
    func writeSealing(_ call: S3Call, bucket: String, customer: CustomerKeyHeaders?) async throws -> BlobSealing {
        let requested = call.header(.amzSSE)
        if let requested {
            switch requested {
            case SSEAlgorithm.aes256: break
            case "aws:kms", "aws:kms:dsse":
                throw S3Error(
                    .NotImplemented,
                    "Server-side encryption with KMS keys (\(requested)) is not implemented by this server; use AES256 (SSE-S3) or SSE-C."
                )
            default:
                throw S3Error(
                    .InvalidArgument, "The encryption method specified is not supported",
                    extra: [("ArgumentName", "x-amz-server-side-encryption"), ("ArgumentValue", requested)])
            }
        }
        if let customer {
            if requested != nil {
                throw S3Error(
                    .InvalidArgument,
                    "Server Side Encryption with Customer provided key is incompatible with the encryption method specified",
                    extra: [("ArgumentName", "x-amz-server-side-encryption"), ("ArgumentValue", requested!)])
            }
            return .customer(customer.key)
        }
        if requested != nil || config.encryptAtRest { return .server }
        return try await bucketEncryption(bucket) != nil ? .server : .plain
    }

    /// The SSE response headers of an object (or upload) with `meta`.
    func addSSEHeaders(_ headers: inout HTTPFields, _ meta: ObjectMeta, customer: CustomerKeyHeaders?) {
        if let sse = meta.sse { headers[.amzSSE] = sse }
        if meta.sseCustomerVerifier != nil, let customer {
            headers[.amzSSECAlgorithm] = SSEAlgorithm.aes256
            headers[.amzSSECKeyMD5] = customer.md5
        }
    }

    // MARK: bucket default encryption

    /// The bucket's stored default encryption, through a short cache; nil when none. Throws NoSuchBucket.
    func bucketEncryption(_ bucket: String) async throws -> BucketEncryption? {
        if let hit = encryptionCache.get(bucket) { return hit }
        guard let b = try await metadata.bucket(bucket) else { throw S3Error(.NoSuchBucket) }
        let value = Self.bucketEncryption(b)
        encryptionCache.put(value, for: bucket)
        return value
    }

    static func bucketEncryption(_ b: BucketRecord) -> BucketEncryption? {
        b.encryption.flatMap { try? JSONDecoder().decode(BucketEncryption.self, from: Data($0.utf8)) }
    }

    func putBucketEncryption(_ call: S3Call) async throws -> Response {
        let bucket = try requireBucket(call)
        guard let doc = try await readXMLBody(call, limit: 64 * 1024, required: true, verifyIntegrity: true),
            doc.name == "ServerSideEncryptionConfiguration"
        else { throw S3Error(.MalformedXML) }
        let rules = doc.all("Rule")
        guard rules.count == 1, let rule = rules.first,
            let apply = rule.child("ApplyServerSideEncryptionByDefault"),
            let algorithm = apply.child("SSEAlgorithm")?.text.trimmingSpaces()
        else { throw S3Error(.MalformedXML) }
        let bucketKey = rule.child("BucketKeyEnabled")?.text.trimmingSpaces().lowercased()
        guard bucketKey == nil || bucketKey == "true" || bucketKey == "false" else { throw S3Error(.MalformedXML) }
        switch algorithm {
        case SSEAlgorithm.aes256:
            if apply.child("KMSMasterKeyID") != nil {
                throw S3Error(
                    .InvalidArgument, "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms",
                    extra: [("ArgumentName", "ApplyServerSideEncryptionByDefault")])
            }
        case "aws:kms", "aws:kms:dsse":
            throw S3Error(
                .NotImplemented, "Default encryption with KMS keys (\(algorithm)) is not implemented by this server.")
        default:
            throw S3Error(.MalformedXML)
        }
        let value = BucketEncryption(algorithm: algorithm, bucketKeyEnabled: bucketKey == "true")
        try await metadata.setBucketSetting(
            bucket: bucket, .encryption, value: String(decoding: try JSONEncoder().encode(value), as: UTF8.self))
        encryptionCache.drop(bucket)
        return Response(status: .ok, headers: [.contentLength: "0"])
    }

    func getBucketEncryption(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        // With encryption at rest every object is sealed with the server key: the default is SSE-S3 (as AWS,
        // where every bucket has it since 2023).
        guard
            let value = Self.bucketEncryption(b)
                ?? (config.encryptAtRest
                    ? BucketEncryption(algorithm: SSEAlgorithm.aes256, bucketKeyEnabled: false) : nil)
        else {
            throw S3Error(.ServerSideEncryptionConfigurationNotFoundError, nil, extra: [("BucketName", b.name)])
        }
        var w = XMLWriter()
        w.open("ServerSideEncryptionConfiguration")
        w.open("Rule", namespace: nil)
        w.open("ApplyServerSideEncryptionByDefault", namespace: nil)
        w.element("SSEAlgorithm", value.algorithm)
        w.close("ApplyServerSideEncryptionByDefault")
        w.element("BucketKeyEnabled", value.bucketKeyEnabled)
        w.close("Rule")
        w.close("ServerSideEncryptionConfiguration")
        return xmlResponse(w.finish())
    }

    func deleteBucketEncryption(_ call: S3Call) async throws -> Response {
        let bucket = try requireBucket(call)
        try await metadata.setBucketSetting(bucket: bucket, .encryption, value: nil)
        encryptionCache.drop(bucket)
        return Response(status: .noContent)
    }
}
