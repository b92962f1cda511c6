import Foundation
import HTTPTypes
import Hummingbird
import MaxIOIAM
import MaxIOS3
import MaxIOStorage
import NIOCore

/// Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus.
extension S3API {
    static let maxPolicyBytes = 20 * 1024

    func putBucketPolicy(_ call: S3Call) async throws -> Response {
        let bucket = try requireBucket(call)
        let buffer = try await readSmallBody(
            call, limit: Self.maxPolicyBytes, tooLarge: S3Error(.MalformedPolicy, "Policies must be under 20 KB"))
        guard buffer.readableBytes > 0 else { throw S3Error(.MissingRequestBodyError) }
        guard let text = String(bytes: buffer.readableBytesView, encoding: .utf8) else {
            throw S3Error(.MalformedPolicy, "Policies must be valid JSON and the first byte must be '{'")
        }
        let policy: BucketPolicy
        do {
            policy = try BucketPolicy.parse(text, bucket: bucket)
        } catch let e as PolicyError {
            throw S3Error(.MalformedPolicy, e.message)
        }
        if policy.isPublic, let b = try await metadata.bucket(bucket),
            Self.publicAccessBlock(b)?.blockPublicPolicy == true
        {
            throw S3Error(.AccessDenied, "Access Denied: BlockPublicPolicy is set on this bucket")
        }
        try await metadata.setBucketSetting(bucket: bucket, .policy, value: text)
        accessCache.drop(bucket)
        return Response(status: .noContent)
    }

    func getBucketPolicy(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        guard let policy = b.policy else { throw S3Error(.NoSuchBucketPolicy, nil, extra: [("BucketName", b.name)]) }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: policy)))
    }

    func deleteBucketPolicy(_ call: S3Call) async throws -> Response {
        let bucket = try requireBucket(call)
        try await metadata.setBucketSetting(bucket: bucket, .policy, value: nil)
        accessCache.drop(bucket)
        return Response(status: .noContent)
    }

    func getBucketPolicyStatus(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        guard let text = b.policy else { throw S3Error(.NoSuchBucketPolicy, nil, extra: [("BucketName", b.name)]) }
        let isPublic = (try? BucketPolicy.parse(text, bucket: b.name))?.isPublic ?? false
        var w = XMLWriter()
        w.open("PolicyStatus")
        w.element("IsPublic", isPublic ? "true" : "false")
        w.close("PolicyStatus")
        return xmlResponse(w.finish())
    }
}
