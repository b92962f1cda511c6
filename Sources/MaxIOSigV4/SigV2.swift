import Crypto
import Foundation
import MaxIOCore

/// AWS Signature Version 2 (header `Authorization: AWS AKID:sig` and presigned `Signature=` queries),
/// which boto3 still uses for presigned URLs by default.
package enum SigV2 {
    /// Sub-resources that are part of the canonical resource.
    static let subresources: Set<String> = [
        "acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber", "policy",
        "requestPayment", "response-cache-control", "response-content-disposition", "response-content-encoding",
        "response-content-language", "response-content-type", "response-expires", "restore", "tagging", "torrent",
        "uploadId", "uploads", "versionId", "versioning", "versions", "website", "object-lock", "retention",
        "legal-hold", "encryption", "replication", "accelerate", "analytics", "inventory", "metrics",
        "ownershipControls", "publicAccessBlock", "select", "select-type", "attributes", "intelligent-tiering",
    ]

    package struct Parsed: Sendable {
        package var accessKey: String
        package var signature: String
        package var presigned: Bool
        /// Presigned expiry (epoch seconds).
        package var expires: Int?
    }

    package static func isV2(_ r: SignableRequest) -> Bool {
        if let a = r.header("authorization") { return a.hasPrefix("AWS ") }
        return r.queryItems.contains { $0.name == "AWSAccessKeyId" } && r.queryItems.contains { $0.name == "Signature" }
    }

    package static func parse(_ r: SignableRequest, now: Date) throws(SignatureError) -> Parsed {
        if let a = r.header("authorization") {
            let rest = a.dropFirst(4)
            guard let colon = rest.lastIndex(of: ":"), colon > rest.startIndex else {
                throw SignatureError(
                    .authorizationHeaderMalformed,
                    "The authorization header is malformed; expected AWS AccessKeyId:Signature.")
            }
            let p = Parsed(
                accessKey: String(rest[..<colon]), signature: String(rest[rest.index(after: colon)...]),
                presigned: false,
                expires: nil)
            guard let dateText = r.header("x-amz-date") ?? r.header("date"),
                let date = WireDate.parseHTTP(dateText)
            else {
                throw SignatureError(.accessDenied, "AWS authentication requires a valid Date or x-amz-date header")
            }
            if abs(date.timeIntervalSince(now)) > SigV4.maxSkew { throw SignatureError(.requestTimeTooSkewed) }
            return p
        }
        var q: [String: String] = [:]
        for item in r.queryItems where q[item.name] == nil { q[item.name] = item.value }
        guard let ak = q["AWSAccessKeyId"], let sig = q["Signature"], let expText = q["Expires"] else {
            throw SignatureError(
                .accessDenied,
                "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
        }
        guard let exp = Int(expText) else { throw SignatureError(.accessDenied, "Invalid Expires parameter") }
        if Double(exp) < now.timeIntervalSince1970 { throw SignatureError(.requestExpired, "Request has expired") }
        return Parsed(accessKey: ak, signature: sig, presigned: true, expires: exp)
    }

    package static func stringToSign(_ r: SignableRequest, parsed: Parsed, bucketFromHost: String?) -> String {
        let dateLine: String
        if let exp = parsed.expires {
            dateLine = String(exp)
        } else if r.header("x-amz-date") != nil {
            dateLine = ""
        } else {
            dateLine = r.header("date") ?? ""
        }
        var amz: [String: [String]] = [:]
        for h in r.headers where h.name.hasPrefix("x-amz-") {
            amz[h.name, default: []].append(h.value.trimmingSpaces())
        }
        let amzLines = amz.keys.sorted().map { "\($0):\(amz[$0]!.joined(separator: ","))\n" }.joined()
        var resource = ""
        if let b = bucketFromHost { resource = "/" + b }
        resource += r.rawPath
        let subs = r.queryItems.filter { subresources.contains($0.name) }
            .sorted { $0.name < $1.name }
            .map { $0.value.isEmpty ? $0.name : "\($0.name)=\($0.value)" }
        if !subs.isEmpty { resource += "?" + subs.joined(separator: "&") }
        return [r.method, r.header("content-md5") ?? "", r.header("content-type") ?? "", dateLine].joined(
            separator: "\n")
            + "\n" + amzLines + resource
    }

    package static func verify(_ parsed: Parsed, secret: String, request r: SignableRequest, bucketFromHost: String?)
        throws(SignatureError) -> VerifiedAuth
    {
        let sts = stringToSign(r, parsed: parsed, bucketFromHost: bucketFromHost)
        let mac = HMAC<Insecure.SHA1>.authenticationCode(
            for: Array(sts.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        let expected = Data(mac).base64EncodedString()
        guard SigV4.constantTimeEquals(expected, parsed.signature) else {
            var e = SignatureError(.signatureDoesNotMatch, nil, stringToSign: sts, accessKey: parsed.accessKey)
            e.signatureProvided = parsed.signature
            throw e
        }
        return VerifiedAuth(accessKey: parsed.accessKey, payload: .unsigned, chunkSigner: nil)
    }
}
