import Crypto
import Foundation
import MaxIOCore
import Synchronization

/// What SigV4 needs of an HTTP request. Header names are lower-case.
package struct SignableRequest: Sendable {
    package var method: String
    /// The path exactly as sent (percent-encoded).
    package var rawPath: String
    /// The query string exactly as sent, without `?`.
    package var rawQuery: String
    package var headers: [(name: String, value: String)]
    /// Query parameters, decoded, in order: parsed once.
    package let queryItems: [(name: String, value: String)]

    package init(
        method: String, rawPath: String, rawQuery: String, headers: [(name: String, value: String)],
        queryItems: [(name: String, value: String)]? = nil
    ) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
        self.queryItems = queryItems ?? SigV4.parseQuery(rawQuery)
    }

    package func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }
}

/// The payload modes a SigV4 request can declare in `x-amz-content-sha256`.
package enum PayloadMode: Sendable, Equatable {
    case unsigned
    case signed(sha256Hex: String)
    case streamingSigned(trailer: Bool)
    case streamingUnsignedTrailer
}

/// The credential scope of a signature: `AKID/20130524/us-east-1/s3/aws4_request`.
package struct CredentialScope: Sendable, Equatable {
    package var accessKey: String
    package var date: String
    package var region: String
    package var service: String

    package var scope: String { "\(date)/\(region)/\(service)/aws4_request" }
}

/// A parsed, not yet verified, SigV4 authentication.
package struct ParsedAuth: Sendable {
    package var credential: CredentialScope
    package var signedHeaders: [String]
    package var signature: String
    package var amzDate: String
    package var requestDate: Date
    package var presigned: Bool
    package var expires: Int?
    package var payload: PayloadMode
}

/// A verified request: who signed it and how its body must be checked.
package struct VerifiedAuth: Sendable {
    package var accessKey: String
    package var payload: PayloadMode
    /// For streaming signed payloads: the seed for chunk signatures.
    package var chunkSigner: ChunkSigner?

    package init(accessKey: String, payload: PayloadMode, chunkSigner: ChunkSigner? = nil) {
        self.accessKey = accessKey
        self.payload = payload
        self.chunkSigner = chunkSigner
    }

    /// An unsigned (anonymous) request: its payload is taken as it comes.
    package static let anonymous = VerifiedAuth(accessKey: "", payload: .unsigned, chunkSigner: nil)
}

package enum SigV4 {
    package static let algorithm = "AWS4-HMAC-SHA256"
    package static let maxPresignedExpiry = 604_800
    package static let maxSkew: TimeInterval = 15 * 60

    /// Whether the request carries any authentication at all.
    package static func isAnonymous(_ r: SignableRequest) -> Bool {
        r.header("authorization") == nil
            && !r.queryItems.contains {
                $0.name == "X-Amz-Signature" || $0.name == "X-Amz-Credential" || $0.name == "Signature"
            }
    }

    /// Parses the Authorization header or the presigned query of a request.
    package static func parse(_ r: SignableRequest, now: Date) throws(SignatureError) -> ParsedAuth {
        if let auth = r.header("authorization") {
            return try parseHeader(auth, r, now: now)
        }
        return try parsePresigned(r, now: now)
    }

    package static func parseCredential(_ s: String, malformed: SignatureError.Code) throws(SignatureError)
        -> CredentialScope
    {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, !parts[0].isEmpty else {
            throw SignatureError(
                malformed,
                "The credential is malformed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
        }
        guard parts[4] == "aws4_request" else {
            throw SignatureError(
                malformed,
                "The credential is malformed; incorrect terminal \"\(parts[4])\". This endpoint uses \"aws4_request\".")
        }
        guard parts[3] == "s3" else {
            throw SignatureError(
                malformed,
                "The credential is malformed; incorrect service \"\(parts[3])\". This endpoint belongs to \"s3\".")
        }
        guard parts[1].count == 8, parts[1].allSatisfy(\.isNumber) else {
            throw SignatureError(
                malformed,
                "The credential is malformed; incorrect date format \"\(parts[1])\". This date in the credential must be in the format \"yyyyMMdd\"."
            )
        }
        return CredentialScope(accessKey: parts[0], date: parts[1], region: parts[2], service: parts[3])
    }

    private static func payloadMode(_ value: String?, presigned: Bool) throws(SignatureError) -> PayloadMode {
        guard let value else {
            if presigned { return .unsigned }
            throw SignatureError(
                .missingSecurityHeader, "Missing required header for this request: x-amz-content-sha256")
        }
        switch value {
        case "UNSIGNED-PAYLOAD": return .unsigned
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD": return .streamingSigned(trailer: false)
        case "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER": return .streamingSigned(trailer: true)
        case "STREAMING-UNSIGNED-PAYLOAD-TRAILER": return .streamingUnsignedTrailer
        default:
            guard value.utf8.count == 64, Hex.decode(value) != nil else {
                throw SignatureError(
                    .invalidContentSHA256,
                    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value."
                )
            }
            return .signed(sha256Hex: value.lowercased())
        }
    }

    private static func parseHeader(_ auth: String, _ r: SignableRequest, now: Date) throws(SignatureError)
        -> ParsedAuth
    {
        if auth.hasPrefix("AWS ") {
            throw SignatureError(
                .unsupportedAlgorithm, "Signature Version 2 is not supported yet; please use AWS4-HMAC-SHA256.")
        }
        guard auth.hasPrefix(algorithm + " ") else {
            throw SignatureError(
                .unsupportedAlgorithm,
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
        }
        var credential: String?
        var signedHeaders: String?
        var signature: String?
        for part in auth.dropFirst(algorithm.count + 1).split(separator: ",") {
            let kv = part.trimmingSpaces()
            guard let eq = kv.firstIndex(of: "=") else { continue }
            let k = kv[..<eq]
            let v = String(kv[kv.index(after: eq)...])
            switch k {
            case "Credential": credential = v
            case "SignedHeaders": signedHeaders = v
            case "Signature": signature = v
            default: break
            }
        }
        guard let credential, let signedHeaders, let signature else {
            throw SignatureError(
                .authorizationHeaderMalformed,
                "The authorization header is malformed; the authorization component is missing.")
        }
        let scope = try parseCredential(credential, malformed: .authorizationHeaderMalformed)
        guard let amzDate = r.header("x-amz-date") ?? r.header("date"),
            let date = WireDate.parseAmz(amzDate) ?? WireDate.parseHTTP(amzDate)
        else {
            throw SignatureError(.accessDenied, "AWS authentication requires a valid Date or x-amz-date header")
        }
        if abs(date.timeIntervalSince(now)) > maxSkew {
            throw SignatureError(.requestTimeTooSkewed)
        }
        let amz = WireDate.amz(date)
        guard amz.hasPrefix(scope.date) else {
            throw SignatureError(
                .authorizationHeaderMalformed,
                "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.")
        }
        let headers = signedHeaders.split(separator: ";").map { String($0) }
        guard headers.contains("host") else {
            throw SignatureError(.accessDenied, "Host header is not signed.")
        }
        return ParsedAuth(
            credential: scope, signedHeaders: headers, signature: signature, amzDate: amzDate, requestDate: date,
            presigned: false, expires: nil,
            payload: try payloadMode(r.header("x-amz-content-sha256"), presigned: false))
    }

    private static func parsePresigned(_ r: SignableRequest, now: Date) throws(SignatureError) -> ParsedAuth {
        var q: [String: String] = [:]
        for item in r.queryItems where q[item.name] == nil { q[item.name] = item.value }
        if q["Signature"] != nil && q["AWSAccessKeyId"] != nil {
            throw SignatureError(
                .unsupportedAlgorithm, "Signature Version 2 is not supported yet; please use AWS4-HMAC-SHA256.")
        }
        guard let alg = q["X-Amz-Algorithm"], let credential = q["X-Amz-Credential"],
            let signedHeaders = q["X-Amz-SignedHeaders"], let signature = q["X-Amz-Signature"],
            let amzDate = q["X-Amz-Date"], let expiresString = q["X-Amz-Expires"]
        else {
            throw SignatureError(
                .authorizationQueryParametersError,
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
            )
        }
        guard alg == algorithm else {
            throw SignatureError(
                .authorizationQueryParametersError, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
        }
        let scope = try parseCredential(credential, malformed: .authorizationQueryParametersError)
        guard let date = WireDate.parseAmz(amzDate) else {
            throw SignatureError(
                .authorizationQueryParametersError,
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        }
        guard let expires = Int(expiresString), expires >= 0 else {
            throw SignatureError(.authorizationQueryParametersError, "X-Amz-Expires should be a number")
        }
        guard expires <= maxPresignedExpiry else {
            throw SignatureError(
                .authorizationQueryParametersError, "X-Amz-Expires must be less than a week (in seconds) that is 604800"
            )
        }
        guard amzDate.hasPrefix(scope.date) else {
            throw SignatureError(
                .authorizationQueryParametersError, "Invalid credential date. Date is not the same as X-Amz-Date.")
        }
        if date.timeIntervalSince(now) > maxSkew {
            throw SignatureError(.accessDenied, "Request is not valid yet")
        }
        if now.timeIntervalSince(date) > TimeInterval(expires) {
            throw SignatureError(.requestExpired, "Request has expired")
        }
        let headers = signedHeaders.split(separator: ";").map { String($0) }
        guard headers.contains("host") else {
            throw SignatureError(.authorizationQueryParametersError, "Host header is not signed.")
        }
        return ParsedAuth(
            credential: scope, signedHeaders: headers, signature: signature, amzDate: amzDate, requestDate: date,
            presigned: true, expires: expires,
            payload: try payloadMode(r.header("x-amz-content-sha256") ?? q["X-Amz-Content-Sha256"], presigned: true))
    }

    /// Verifies a parsed signature with the secret of its access key.
    package static func verify(
        _ auth: ParsedAuth, secret: String, request r: SignableRequest, region: String
    ) throws(SignatureError) -> VerifiedAuth {
        guard auth.credential.region == region else {
            let code: SignatureError.Code =
                auth.presigned ? .authorizationQueryParametersError : .authorizationHeaderMalformed
            var e = SignatureError(
                code,
                "The authorization header is malformed; the region '\(auth.credential.region)' is wrong; expecting '\(region)'"
            )
            e.expectedRegion = region
            throw e
        }
        // Every x-amz-* header must be signed, so a presigned URL cannot be turned into another request
        // (e.g. a PutObject into a CopyObject with an added x-amz-copy-source).
        let signed = Set(auth.signedHeaders)
        let unsigned = r.headers.map(\.name).filter {
            $0.hasPrefix("x-amz-") && !signed.contains($0) && !(auth.presigned && $0 == "x-amz-content-sha256")
        }
        if !unsigned.isEmpty {
            var e = SignatureError(.accessDenied, "There were headers present in the request which were not signed")
            e.headersNotSigned = Array(Set(unsigned)).sorted().joined(separator: ", ")
            throw e
        }
        let key = signingKey(
            secret: secret, date: auth.credential.date, region: region, service: auth.credential.service)
        let payloadHash: String =
            switch auth.payload {
            case .unsigned: "UNSIGNED-PAYLOAD"
            case .signed(let h): r.header("x-amz-content-sha256") ?? h
            case .streamingSigned(let trailer):
                trailer ? "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" : "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
            case .streamingUnsignedTrailer: "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
            }
        // The path as the client most likely canonicalised it, then the raw path as a fallback for
        // clients that encode differently (e.g. `%2F` kept in keys).
        let decodedPath = PercentEncoding.decode(r.rawPath) ?? r.rawPath
        let paths = [PercentEncoding.encode(decodedPath, keepSlash: true), r.rawPath]
        var first: (sts: String, creq: String)?
        for (i, path) in paths.enumerated() where i == 0 || path != paths[0] {
            let creq = canonicalRequest(
                method: r.method, canonicalURI: path, request: r, signedHeaders: auth.signedHeaders,
                payloadHash: payloadHash, presigned: auth.presigned)
            let sts = stringToSign(
                amzDate: WireDate.amz(auth.requestDate), scope: auth.credential.scope, canonicalRequest: creq)
            let sig = Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(sts.utf8), using: key))
            if constantTimeEquals(sig, auth.signature.lowercased()) {
                let signer: ChunkSigner? =
                    if case .streamingSigned = auth.payload {
                        ChunkSigner(
                            key: key, amzDate: WireDate.amz(auth.requestDate), scope: auth.credential.scope, seed: sig)
                    } else { nil }
                return VerifiedAuth(accessKey: auth.credential.accessKey, payload: auth.payload, chunkSigner: signer)
            }
            if first == nil { first = (sts, creq) }
        }
        var e = SignatureError(
            .signatureDoesNotMatch, nil, stringToSign: first?.sts, canonicalRequest: first?.creq,
            accessKey: auth.credential.accessKey)
        e.signatureProvided = auth.signature
        throw e
    }

    package static func canonicalRequest(
        method: String, canonicalURI: String, request r: SignableRequest, signedHeaders: [String],
        payloadHash: String, presigned: Bool
    ) -> String {
        var items = r.queryItems
        if presigned { items.removeAll { $0.name == "X-Amz-Signature" } }
        var pairs: [(String, String)] = items.map { item in
            (PercentEncoding.encode(item.name), PercentEncoding.encode(item.value))
        }
        pairs.sort { (a: (String, String), b: (String, String)) -> Bool in
            a.0 == b.0 ? a.1 < b.1 : a.0 < b.0
        }
        let query = pairs.map { (p: (String, String)) -> String in p.0 + "=" + p.1 }.joined(separator: "&")
        var headerLines = ""
        for name in signedHeaders {
            let values = r.headers.filter { $0.name == name }.map { trimAll($0.value) }
            headerLines += name + ":" + values.joined(separator: ",") + "\n"
        }
        return [method, canonicalURI, query, headerLines, signedHeaders.joined(separator: ";"), payloadHash]
            .joined(separator: "\n")
    }

    package static func stringToSign(amzDate: String, scope: String, canonicalRequest: String) -> String {
        "\(algorithm)\n\(amzDate)\n\(scope)\n\(Digest.sha256Hex(Array(canonicalRequest.utf8)))"
    }

    /// Trims and collapses runs of spaces, as SigV4 canonical headers require.
    private static func trimAll(_ s: String) -> String {
        var out = ""
        var space = false
        for ch in s.trimmingSpaces() {
            if ch == " " || ch == "\t" {
                space = true
            } else {
                if space { out.append(" ") }
                space = false
                out.append(ch)
            }
        }
        return out
    }

    /// Splits a raw query string into decoded (name, value) pairs, in order. A part that does not decode
    /// (bad escape, not UTF-8) is kept as sent.
    package static func parseQuery(_ raw: String) -> [(name: String, value: String)] {
        guard !raw.isEmpty else { return [] }
        var items: [(name: String, value: String)] = []
        var raw = raw
        raw.withUTF8 { bytes in
            var start = 0
            while start <= bytes.count {
                var end = start
                var eq = -1
                while end < bytes.count && bytes[end] != UInt8(ascii: "&") {
                    if eq < 0 && bytes[end] == UInt8(ascii: "=") { eq = end }
                    end += 1
                }
                if end > start {
                    let nameEnd = eq < 0 ? end : eq
                    let name = PercentEncoding.decodeQueryPart(UnsafeBufferPointer(rebasing: bytes[start..<nameEnd]))
                    let value =
                        eq < 0
                        ? "" : PercentEncoding.decodeQueryPart(UnsafeBufferPointer(rebasing: bytes[(eq + 1)..<end]))
                    items.append((name, value))
                }
                start = end + 1
            }
        }
        return items
    }

    private static let keyCache = Mutex<[String: SymmetricKey]>([:])

    package static func signingKey(secret: String, date: String, region: String, service: String) -> SymmetricKey {
        let cacheKey = "\(secret)\u{0}\(date)\u{0}\(region)\u{0}\(service)"
        if let k = keyCache.withLock({ $0[cacheKey] }) { return k }
        func hmac(_ key: SymmetricKey, _ data: String) -> SymmetricKey {
            SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(data.utf8), using: key))
        }
        let kDate = hmac(SymmetricKey(data: Array(("AWS4" + secret).utf8)), date)
        let k = hmac(hmac(hmac(kDate, region), service), "aws4_request")
        keyCache.withLock {
            if $0.count > 1024 { $0.removeAll() }
            $0[cacheKey] = k
        }
        return k
    }

    package static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        constantTimeEqual(a, b)
    }
}

/// Computes the chained chunk signatures of `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`.
package struct ChunkSigner: Sendable {
    let key: SymmetricKey
    let amzDate: String
    let scope: String
    package private(set) var previous: String

    package init(key: SymmetricKey, amzDate: String, scope: String, seed: String) {
        self.key = key
        self.amzDate = amzDate
        self.scope = scope
        self.previous = seed
    }

    /// The expected signature of the next chunk, whose data hashed to `chunkSHA256Hex`; advances the chain.
    package mutating func next(chunkSHA256Hex: String) -> String {
        let sts =
            "AWS4-HMAC-SHA256-PAYLOAD\n\(amzDate)\n\(scope)\n\(previous)\n\(Digest.emptySHA256)\n\(chunkSHA256Hex)"
        previous = Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(sts.utf8), using: key))
        return previous
    }

    /// The expected signature of the trailer block (canonical `name:value\n` lines).
    package mutating func trailer(canonicalTrailers: String) -> String {
        let sts =
            "AWS4-HMAC-SHA256-TRAILER\n\(amzDate)\n\(scope)\n\(previous)\n\(Digest.sha256Hex(Array(canonicalTrailers.utf8)))"
        previous = Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(sts.utf8), using: key))
        return previous
    }
}

/// Signs requests: used by tests and node-to-node calls. Never the only client in tests.
package struct Signer: Sendable {
    package var accessKey: String
    package var secret: String
    package var region: String

    package init(accessKey: String, secret: String, region: String) {
        self.accessKey = accessKey
        self.secret = secret
        self.region = region
    }

    /// Returns the Authorization header value for the request (which must carry `host`,
    /// `x-amz-date` and `x-amz-content-sha256` headers).
    package func authorization(for r: SignableRequest, date: Date) -> String {
        let day = String(WireDate.amz(date).prefix(8))
        let scope = CredentialScope(accessKey: accessKey, date: day, region: region, service: "s3")
        let names = Array(Set(r.headers.map(\.name))).sorted()
        let decoded = PercentEncoding.decode(r.rawPath) ?? r.rawPath
        let creq = SigV4.canonicalRequest(
            method: r.method, canonicalURI: PercentEncoding.encode(decoded, keepSlash: true), request: r,
            signedHeaders: names, payloadHash: r.header("x-amz-content-sha256") ?? "UNSIGNED-PAYLOAD", presigned: false)
        let sts = SigV4.stringToSign(amzDate: WireDate.amz(date), scope: scope.scope, canonicalRequest: creq)
        let key = SigV4.signingKey(secret: secret, date: day, region: region, service: "s3")
        let sig = Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(sts.utf8), using: key))
        return
            "\(SigV4.algorithm) Credential=\(accessKey)/\(scope.scope), SignedHeaders=\(names.joined(separator: ";")), Signature=\(sig)"
    }
}
