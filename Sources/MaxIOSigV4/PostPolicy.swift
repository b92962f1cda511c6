import Crypto
import Foundation
import MaxIOCore

/// The policy document of a browser upload (POST Object): when it expires and what the form may hold.
package struct PostPolicy: Sendable {
    package enum Condition: Sendable, Equatable {
        case eq(field: String, value: String)
        case startsWith(field: String, prefix: String)
        case contentLengthRange(min: Int64, max: Int64)
    }

    package var expiration: Date
    package var conditions: [Condition]

    /// A policy that does not parse (400 InvalidPolicyDocument), or a form it does not allow (403 AccessDenied).
    package struct Failure: Error, Sendable {
        package var malformed: Bool
        package var message: String
    }

    static func malformed(_ m: String) -> Failure { Failure(malformed: true, message: "Invalid Policy: " + m) }
    static func denied(_ m: String) -> Failure {
        Failure(malformed: false, message: "Invalid according to Policy: " + m)
    }

    /// Fields that never need a condition.
    static let exempt: Set<String> = [
        "policy", "x-amz-signature", "signature", "awsaccesskeyid", "file", "x-amz-security-token",
    ]

    package static func parse(base64 text: String) throws(Failure) -> PostPolicy {
        guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw malformed("Invalid Base64.")
        }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw malformed("Invalid JSON.")
        }
        guard let exp = obj["expiration"] as? String else { throw malformed("Policy missing expiration.") }
        guard let expiration = WireDate.parseISO8601(exp) else {
            throw malformed("Invalid 'expiration' value: '\(exp)'")
        }
        guard let list = obj["conditions"] as? [Any] else { throw malformed("Policy missing conditions.") }
        var conditions: [Condition] = []
        for item in list {
            if let dict = item as? [String: Any] {
                guard dict.count == 1, let (k, v) = dict.first else {
                    throw malformed("Invalid simple condition: an object holds exactly one field.")
                }
                guard let value = Self.text(v) else { throw malformed("Invalid simple condition value for \(k).") }
                conditions.append(.eq(field: k.lowercased(), value: value))
            } else if let arr = item as? [Any], let op = (arr.first as? String)?.lowercased() {
                switch op {
                case "eq", "starts-with":
                    guard arr.count == 3, let f = arr[1] as? String, f.hasPrefix("$"), let v = Self.text(arr[2])
                    else { throw malformed("Invalid \(op) condition.") }
                    let field = String(f.dropFirst()).lowercased()
                    conditions.append(op == "eq" ? .eq(field: field, value: v) : .startsWith(field: field, prefix: v))
                case "content-length-range":
                    guard arr.count == 3, let lo = Self.integer(arr[1]), let hi = Self.integer(arr[2]), lo >= 0,
                        lo <= hi
                    else { throw malformed("Invalid content-length-range condition.") }
                    conditions.append(.contentLengthRange(min: lo, max: hi))
                default:
                    throw malformed("Invalid condition operator: \(op)")
                }
            } else {
                throw malformed("Invalid condition.")
            }
        }
        return PostPolicy(expiration: expiration, conditions: conditions)
    }

    static func text(_ v: Any) -> String? {
        if let s = v as? String { return s }
        if let n = v as? NSNumber { return n.stringValue }
        return nil
    }

    static func integer(_ v: Any) -> Int64? {
        if let n = v as? NSNumber { return n.int64Value }
        if let s = v as? String { return Int64(s) }
        return nil
    }

    /// Checks the form (field names lower-cased, `bucket` included) against the policy; returns the allowed
    /// size range of the file, if the policy gives one.
    package func check(fields: [String: String], now: Date) throws(Failure) -> ClosedRange<Int64>? {
        guard expiration > now else { throw Self.denied("Policy expired.") }
        var covered: Set<String> = []
        var range: ClosedRange<Int64>?
        for c in conditions {
            switch c {
            case .eq(let field, let value):
                covered.insert(field)
                guard (fields[field] ?? "") == value || (field == "bucket" && fields[field] == value) else {
                    throw Self.denied("Policy Condition failed: [\"eq\", \"$\(field)\", \"\(value)\"]")
                }
            case .startsWith(let field, let prefix):
                covered.insert(field)
                // `Content-Type` may hold several comma-separated types; each must match.
                let values =
                    field == "content-type"
                    ? (fields[field] ?? "").split(separator: ",").map { $0.trimmingSpaces() } : [fields[field] ?? ""]
                guard values.allSatisfy({ $0.hasPrefix(prefix) }) else {
                    throw Self.denied("Policy Condition failed: [\"starts-with\", \"$\(field)\", \"\(prefix)\"]")
                }
            case .contentLengthRange(let lo, let hi):
                range = lo...hi
            }
        }
        let extra = fields.keys.filter {
            !covered.contains($0) && !Self.exempt.contains($0) && !$0.hasPrefix("x-ignore-") && $0 != "bucket"
        }.sorted()
        if !extra.isEmpty { throw Self.denied("Extra input fields: \(extra.joined(separator: ", "))") }
        return range
    }
}

/// The signatures of a POST form: SigV4 (`x-amz-signature` over the policy with the scope's signing key) or
/// SigV2 (`signature`, HMAC-SHA1 of the policy).
package enum PostSignature {
    /// The credential of a SigV4 form (`x-amz-credential`), checked for shape and region.
    package static func credential(_ fields: [String: String], region: String) throws(SignatureError) -> CredentialScope
    {
        guard fields["x-amz-algorithm"] == SigV4.algorithm else {
            throw SignatureError(
                .invalidArgument, "Only the AWS4-HMAC-SHA256 algorithm is supported for x-amz-algorithm.")
        }
        guard let c = fields["x-amz-credential"] else {
            throw SignatureError(.invalidArgument, "Bucket POST must contain a field named 'x-amz-credential'.")
        }
        guard fields["x-amz-date"] != nil else {
            throw SignatureError(.invalidArgument, "Bucket POST must contain a field named 'x-amz-date'.")
        }
        let scope = try SigV4.parseCredential(c, malformed: .invalidArgument)
        guard scope.region == region else {
            throw SignatureError(
                .invalidArgument,
                "Error parsing the X-Amz-Credential parameter; the region '\(scope.region)' is wrong; expecting '\(region)'"
            )
        }
        return scope
    }

    package static func verifyV4(policy: String, signature: String, secret: String, scope: CredentialScope) -> Bool {
        let key = SigV4.signingKey(secret: secret, date: scope.date, region: scope.region, service: scope.service)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(policy.utf8), using: key)
        return SigV4.constantTimeEquals(Hex.encode(Array(mac)), signature.lowercased())
    }

    package static func verifyV2(policy: String, signature: String, secret: String) -> Bool {
        let mac = HMAC<Insecure.SHA1>.authenticationCode(
            for: Array(policy.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return SigV4.constantTimeEquals(Data(mac).base64EncodedString(), signature)
    }
}
