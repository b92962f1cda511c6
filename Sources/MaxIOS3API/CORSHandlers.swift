import Foundation
import HTTPTypes
import Hummingbird
import MaxIOS3
import MaxIOStorage
import NIOCore
import Synchronization

/// A per-bucket setting for a few seconds (a change through this server drops its entry at once): CORS
/// rules (read only for requests that carry `Origin`), default encryption.
final class BucketValueCache<Value: Sendable>: Sendable {
    private let entries = Mutex<[String: (value: Value, at: ContinuousClock.Instant)]>([:])
    let ttl: Duration = .seconds(5)

    func get(_ bucket: String) -> Value? {
        entries.withLock { e in
            guard let hit = e[bucket], ContinuousClock.now - hit.at < ttl else { return nil }
            return hit.value
        }
    }

    func put(_ value: Value, for bucket: String) {
        entries.withLock { e in
            if e.count > 10_000 { e.removeAll() }
            e[bucket] = (value, .now)
        }
    }

    func drop(_ bucket: String) { _ = entries.withLock { $0.removeValue(forKey: bucket) } }
}

/// Each bucket's CORS rules (nil: none), for a few seconds.
typealias CORSCache = BucketValueCache<[CORSRule]?>

/// Put/Get/DeleteBucketCors, the OPTIONS preflight, and the CORS headers of actual requests.
extension S3API {
    func putBucketCors(_ call: S3Call) async throws -> Response {
        let bucket = try requireBucket(call)
        guard let doc = try await readXMLBody(call, limit: 64 * 1024, required: true, verifyIntegrity: true) else {
            throw S3Error(.MalformedXML)
        }
        let rules = try CORS.parse(doc)
        let json = String(decoding: try JSONEncoder().encode(rules), as: UTF8.self)
        try await metadata.setBucketSetting(bucket: bucket, .cors, value: json)
        corsCache.drop(bucket)
        return Response(status: .ok, headers: [.contentLength: "0"])
    }

    func getBucketCors(_ call: S3Call) async throws -> Response {
        let b = try await existingBucket(call)
        guard let rules = Self.corsRules(b) else {
            throw S3Error(.NoSuchCORSConfiguration, nil, extra: [("BucketName", b.name)])
        }
        return xmlResponse(CORS.xml(rules))
    }

    func deleteBucketCors(_ call: S3Call) async throws -> Response {
        let bucket = try requireBucket(call)
        try await metadata.setBucketSetting(bucket: bucket, .cors, value: nil)
        corsCache.drop(bucket)
        return Response(status: .noContent)
    }

    static func corsRules(_ b: BucketRecord) -> [CORSRule]? {
        b.cors.flatMap { try? JSONDecoder().decode([CORSRule].self, from: Data($0.utf8)) }
    }

    /// The bucket's rules (nil: no configuration), through the cache; throws NoSuchBucket.
    func cachedCORSRules(_ bucket: String) async throws -> [CORSRule]? {
        if let hit = corsCache.get(bucket) { return hit }
        guard let b = try await metadata.bucket(bucket) else { throw S3Error(.NoSuchBucket) }
        let rules = Self.corsRules(b)
        corsCache.put(rules, for: bucket)
        return rules
    }

    /// `OPTIONS /bucket[/key]`: answered from the bucket's CORS rules, without authentication (browsers send
    /// no credentials in a preflight).
    func corsPreflight(_ request: Request, bucket: String?) async throws -> Response {
        guard let bucket else {
            throw S3Error(.BadRequest, "Insufficient information. Bucket name needed for a CORS preflight.")
        }
        guard let origin = request.headers[.origin], !origin.isEmpty else {
            throw S3Error(.BadRequest, "Insufficient information. Origin request header needed.")
        }
        let methodHeader = HTTPField.Name("Access-Control-Request-Method")!
        guard let method = request.headers[methodHeader], CORS.isMethod(method) else {
            throw S3Error(
                .BadRequest, "Invalid Access-Control-Request-Method: \(request.headers[methodHeader] ?? "null")")
        }
        let requested = CORS.requestedHeaders(request.headers[HTTPField.Name("Access-Control-Request-Headers")!])
        guard let rules = try await cachedCORSRules(bucket) else {
            throw S3Error(
                .AccessForbidden, "CORSResponse: CORS is not enabled for this bucket.",
                extra: [("Method", method), ("ResourceType", "BUCKET")])
        }
        guard let rule = CORS.match(rules, origin: origin, method: method, requestHeaders: requested) else {
            throw S3Error(
                .AccessForbidden,
                "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
                extra: [("Method", method), ("ResourceType", "OBJECT")])
        }
        var headers = HTTPFields()
        for (k, v) in CORS.responseHeaders(
            rule, origin: origin, preflight: true, method: method, requestHeaders: requested)
        {
            headers[HTTPField.Name(k)!] = v
        }
        headers[.contentLength] = "0"
        return Response(status: .ok, headers: headers)
    }

    /// Adds the CORS headers to the answer of a request from a browser (it carries `Origin`) when a rule of the
    /// bucket allows its origin and method. Errors included, so that the page can read them.
    func addCORSHeaders(_ response: inout Response, request: Request, bucket: String) async {
        guard let origin = request.headers[.origin], !origin.isEmpty,
            let rules = try? await cachedCORSRules(bucket),
            let rule = CORS.match(rules, origin: origin, method: request.method.rawValue)
        else { return }
        for (k, v) in CORS.responseHeaders(
            rule, origin: origin, preflight: false, method: request.method.rawValue, requestHeaders: [])
        {
            response.headers[HTTPField.Name(k)!] = v
        }
    }
}
