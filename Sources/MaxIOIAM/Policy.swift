import Foundation

// AWS bucket policies: parsing, validation and evaluation.
//
// The grammar is the bucket-policy subset of the IAM JSON policy language
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html).
// Evaluation answers one question for one request: does an explicit Deny apply, does an Allow
// apply, or does the policy say nothing? Combining that with ACLs, ownership and identity
// policies is the caller's business.

// MARK: - Public surface

package struct PolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// Who is asking, as a policy sees it.
package struct PolicyPrincipal: Sendable, Equatable {
    /// nil for anonymous requests.
    package var canonicalID: String?
    /// Identifiers a `Principal: {"AWS": ...}` entry may name for this principal, e.g.
    /// "arn:aws:iam::TENANT:user/NAME", "arn:aws:iam::TENANT:root", "TENANT" (account id), the canonical id.
    /// Empty for anonymous.
    package var awsIdentifiers: Set<String>

    package init(canonicalID: String?, awsIdentifiers: Set<String>) {
        self.canonicalID = canonicalID
        self.awsIdentifiers = awsIdentifiers
    }

    package static let anonymous = PolicyPrincipal(canonicalID: nil, awsIdentifiers: [])

    package var isAnonymous: Bool { canonicalID == nil && awsIdentifiers.isEmpty }
}

package struct PolicyRequest: Sendable {
    package var principal: PolicyPrincipal
    /// e.g. "s3:GetObject" (case-insensitive match against policy actions)
    package var action: String
    /// e.g. "arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key/with/slashes"
    package var resource: String
    /// Condition context keys, matched case-insensitively on the key name ("aws:SourceIp",
    /// "aws:SecureTransport", "aws:CurrentTime", "aws:EpochTime", "aws:username", "aws:userid", "s3:prefix",
    /// "s3:max-keys", "s3:x-amz-acl", "s3:ExistingObjectTag/<tag>", ...). Multi-valued keys have several
    /// values. A key absent from the map (or mapped to no values) is "missing".
    package var context: [String: [String]]

    package init(principal: PolicyPrincipal, action: String, resource: String, context: [String: [String]] = [:]) {
        self.principal = principal
        self.action = action
        self.resource = resource
        self.context = context
    }

    /// "arn:aws:s3:::bucket" or "arn:aws:s3:::bucket/key".
    package static func resourceARN(bucket: String, key: String? = nil) -> String {
        guard let key else { return "arn:aws:s3:::" + bucket }
        return "arn:aws:s3:::" + bucket + "/" + key
    }
}

/// `deny` means an explicit Deny statement matched.
package enum PolicyDecision: Sendable, Equatable { case allow, deny, notApplicable }

package struct BucketPolicy: Sendable, Equatable {
    /// The policy as stored (the original JSON text).
    package private(set) var text: String
    /// The Version element, if present ("2012-10-17" or "2008-10-17").
    package private(set) var version: String?
    /// The Id element, if present.
    package private(set) var id: String?
    var statements: [PolicyStatement]

    /// AWS's bucket-policy size limit, in bytes of UTF-8.
    package static let maximumSize = 20 * 1024
    package static let supportedVersions: Set<String> = ["2012-10-17", "2008-10-17"]

    package var statementCount: Int { statements.count }

    /// Parses and validates a policy for `bucket`. Throws `PolicyError` with AWS-like reasons.
    package static func parse(_ json: String, bucket: String) throws -> BucketPolicy {
        guard json.utf8.count <= maximumSize else {
            throw PolicyError("Policies must be under 20 KB")
        }
        let invalidJSON = PolicyError("Policies must be valid JSON and the first byte must be '{'")
        guard json.utf8.first(where: { !Self.isJSONWhitespace($0) }) == UInt8(ascii: "{"),
            let parsed = try? JSONSerialization.jsonObject(with: Data(json.utf8)),
            let top = parsed as? [String: Any]
        else { throw invalidJSON }

        for key in top.keys.sorted() where !["Version", "Id", "Statement"].contains(key) {
            throw PolicyError("Unknown field \(key)")
        }
        var version: String?
        if let raw = top["Version"] {
            guard let v = raw as? String, supportedVersions.contains(v) else {
                throw PolicyError("The policy version is not valid")
            }
            version = v
        }
        var id: String?
        if let raw = top["Id"] {
            guard let v = raw as? String else { throw PolicyError("Policy Id must be a string") }
            id = v
        }
        guard let rawStatements = top["Statement"] else { throw PolicyError("Missing required field Statement") }
        let statementObjects: [Any]
        if let list = rawStatements as? [Any] {
            statementObjects = list
        } else if rawStatements is [String: Any] {
            statementObjects = [rawStatements]
        } else {
            throw PolicyError("Statement must be an object or an array of objects")
        }
        guard !statementObjects.isEmpty else { throw PolicyError("Could not parse the policy: Statement is empty!") }

        // Policy variables are only honoured with Version 2012-10-17; otherwise they are literal text.
        let variables = version == "2012-10-17"
        var statements: [PolicyStatement] = []
        var sids: Set<String> = []
        for object in statementObjects {
            guard let dict = object as? [String: Any] else {
                throw PolicyError("Statement must be an object or an array of objects")
            }
            let statement = try PolicyStatement.parse(dict, bucket: bucket, variables: variables)
            if let sid = statement.sid {
                guard sids.insert(sid).inserted else {
                    throw PolicyError("Statement IDs (SID) in a single policy must be unique")
                }
            }
            statements.append(statement)
        }
        return BucketPolicy(text: json, version: version, id: id, statements: statements)
    }

    package func evaluate(_ request: PolicyRequest) -> PolicyDecision {
        let context = EvaluationContext(request.context)
        let action = Array(request.action.lowercased())
        let resource = Array(request.resource)
        var allowed = false
        for statement in statements {
            if statement.allow && allowed { continue }
            guard statement.applies(principal: request.principal, action: action, resource: resource, context: context)
            else { continue }
            if !statement.allow { return .deny }
            allowed = true
        }
        return allowed ? .allow : .notApplicable
    }

    /// True when some Allow statement grants access to everyone without a condition that pins it to fixed
    /// source IPs, VPCs, ARNs, accounts, organisations or user ids (AWS's "IsPublic").
    package var isPublic: Bool {
        statements.contains { statement in
            statement.allow && statement.grantsEveryone
                && !statement.conditions.contains(where: { $0.restrictsToFixedSource(variables: statement.variables) })
        }
    }

    /// Whether `action` (e.g. "s3:GetObject", case-insensitive) is a known S3 IAM action.
    package static func isKnownAction(_ action: String) -> Bool {
        let lower = action.lowercased()
        guard lower.hasPrefix("s3:") else { return false }
        return S3Actions.scopes[String(lower.dropFirst(3))] != nil
    }

    private static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

// MARK: - Statements

struct PolicyStatement: Sendable, Equatable {
    var sid: String?
    var allow: Bool
    var principals: PrincipalSet
    var notPrincipal: Bool
    /// Lowercased action patterns.
    var actions: [[GlobToken]]
    var notAction: Bool
    var resources: [PolicyTemplate]
    var notResource: Bool
    var conditions: [ConditionClause]
    var variables: Bool

    private static let fields: Set<String> = [
        "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition",
    ]

    static func parse(_ dict: [String: Any], bucket: String, variables: Bool) throws -> PolicyStatement {
        for key in dict.keys.sorted() where !fields.contains(key) {
            throw PolicyError("Unknown field \(key)")
        }
        var sid: String?
        if let raw = dict["Sid"] {
            guard let s = raw as? String else { throw PolicyError("Statement ID (SID) must be a string") }
            sid = s
        }

        guard let rawEffect = dict["Effect"] else { throw PolicyError("Missing required field Effect") }
        guard let effect = rawEffect as? String, effect == "Allow" || effect == "Deny" else {
            throw PolicyError("Invalid effect: \(Self.describe(rawEffect))")
        }

        let (principalValue, notPrincipal) = try exclusive(dict, "Principal", "NotPrincipal")
        let principals = try PrincipalSet.parse(principalValue)

        let (actionValue, notAction) = try exclusive(dict, "Action", "NotAction")
        guard let actionStrings = stringList(actionValue), !actionStrings.isEmpty else {
            throw PolicyError("Policy has invalid action")
        }
        var actions: [[GlobToken]] = []
        var scopes: [S3Actions.Scope] = []
        var actionWildcards = false
        for action in actionStrings {
            let (tokens, scope) = try S3Actions.validate(action)
            actions.append(tokens)
            if let scope { scopes.append(scope) } else { actionWildcards = true }
        }

        let (resourceValue, notResource) = try exclusive(dict, "Resource", "NotResource")
        guard let resourceStrings = stringList(resourceValue), !resourceStrings.isEmpty else {
            throw PolicyError("Policy has invalid resource")
        }
        for resource in resourceStrings where !isValidResource(resource, bucket: bucket) {
            throw PolicyError("Policy has invalid resource")
        }
        let resources = resourceStrings.map { PolicyTemplate($0, variables: variables) }

        var conditions: [ConditionClause] = []
        if let raw = dict["Condition"] {
            conditions = try ConditionClause.parseBlock(raw, variables: variables)
        }

        // AWS refuses statements in which no action can apply to any of the resources.
        if !notAction && !notResource && !actionWildcards && !scopes.isEmpty {
            if scopes.allSatisfy({ $0 == .bucket }) && resourceStrings.allSatisfy({ $0.contains("/") }) {
                throw PolicyError("Action does not apply to any resource(s) in statement")
            }
            if scopes.allSatisfy({ $0 == .object })
                && resourceStrings.allSatisfy({ !$0.contains("/") && $0 != "*" && !$0.hasSuffix("*") })
            {
                throw PolicyError("Action does not apply to any resource(s) in statement")
            }
        }

        return PolicyStatement(
            sid: sid, allow: effect == "Allow", principals: principals, notPrincipal: notPrincipal,
            actions: actions, notAction: notAction, resources: resources, notResource: notResource,
            conditions: conditions, variables: variables)
    }

    /// Exactly one of `name` / `notName`; returns its value and whether it was the Not form.
    private static func exclusive(_ dict: [String: Any], _ name: String, _ notName: String) throws -> (Any, Bool) {
        switch (dict[name], dict[notName]) {
        case (let value?, nil): return (value, false)
        case (nil, let value?): return (value, true)
        case (nil, nil): throw PolicyError("Missing required field \(name)")
        case (.some, .some): throw PolicyError("Statement cannot contain both \(name) and \(notName)")
        }
    }

    private static func isValidResource(_ resource: String, bucket: String) -> Bool {
        if resource == "*" { return true }
        let prefix = "arn:aws:s3:::"
        guard resource.hasPrefix(prefix) else { return false }
        let bucketPart = resource.dropFirst(prefix.count).prefix(while: { $0 != "/" })
        guard !bucketPart.isEmpty else { return false }
        return Glob.matches(Glob.tokens(bucketPart), Array(bucket))
    }

    static func describe(_ value: Any) -> String {
        if let s = value as? String { return s }
        if let n = value as? NSNumber { return normalize(n) }
        return String(describing: value)
    }

    var grantsEveryone: Bool { notPrincipal ? !principals.everyone : principals.everyone }

    func applies(principal: PolicyPrincipal, action: [Character], resource: [Character], context: EvaluationContext)
        -> Bool
    {
        guard principals.matches(principal) != notPrincipal else { return false }
        guard actions.contains(where: { Glob.matches($0, action) }) != notAction else { return false }
        var resourceMatched = false
        for template in resources {
            guard let tokens = template.glob(in: context) else {
                // An unresolvable policy variable: that entry can't match; under NotResource the
                // statement can't be shown not to match, so it does not apply.
                if notResource { return false }
                continue
            }
            if Glob.matches(tokens, resource) {
                resourceMatched = true
                break
            }
        }
        guard resourceMatched != notResource else { return false }
        return conditions.allSatisfy { $0.evaluate(context) }
    }
}

// MARK: - Principals

struct PrincipalSet: Sendable, Equatable {
    var everyone = false
    var aws: Set<String> = []
    var canonical: Set<String> = []
    /// Service and Federated principals: accepted, never match a user.
    var other: Set<String> = []

    static func parse(_ value: Any) throws -> PrincipalSet {
        let invalid = PolicyError("Invalid principal in policy")
        if let s = value as? String {
            guard s == "*" else { throw invalid }
            return PrincipalSet(everyone: true)
        }
        guard let dict = value as? [String: Any], !dict.isEmpty else { throw invalid }
        var set = PrincipalSet()
        for key in dict.keys.sorted() {
            guard let names = dict[key].flatMap(stringList), !names.isEmpty,
                names.allSatisfy({ !$0.isEmpty && !$0.contains(where: \.isWhitespace) })
            else { throw invalid }
            switch key {
            case "AWS":
                for name in names {
                    if name == "*" {
                        set.everyone = true
                    } else {
                        guard !name.contains("*") else { throw invalid }
                        set.aws.insert(name)
                    }
                }
            case "CanonicalUser":
                guard names.allSatisfy({ !$0.contains("*") }) else { throw invalid }
                set.canonical.formUnion(names)
            case "Service", "Federated":
                guard names.allSatisfy({ !$0.contains("*") }) else { throw invalid }
                set.other.formUnion(names)
            default:
                throw invalid
            }
        }
        return set
    }

    func matches(_ principal: PolicyPrincipal) -> Bool {
        if everyone { return true }
        if !aws.isDisjoint(with: principal.awsIdentifiers) { return true }
        if let id = principal.canonicalID, canonical.contains(id) { return true }
        return false
    }
}

// MARK: - Conditions

struct ConditionClause: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case stringEquals, stringEqualsIgnoreCase, stringLike
        case numericEquals, numericLessThan, numericLessThanEquals, numericGreaterThan, numericGreaterThanEquals
        case dateEquals, dateLessThan, dateLessThanEquals, dateGreaterThan, dateGreaterThanEquals
        case bool, ipAddress, null, arnLike, binaryEquals
    }
    enum Qualifier: Sendable, Equatable { case single, forAnyValue, forAllValues }

    /// The operator as written, e.g. "ForAnyValue:StringNotLikeIfExists".
    var operatorName: String
    var kind: Kind
    /// StringNotEquals, NotIpAddress, ...: true only when no policy value matches.
    var negated: Bool
    var qualifier: Qualifier
    var ifExists: Bool
    /// Lowercased condition key.
    var key: String
    var values: [PolicyTemplate]

    private static let operators: [String: (Kind, Bool)] = [
        "stringequals": (.stringEquals, false), "stringnotequals": (.stringEquals, true),
        "stringequalsignorecase": (.stringEqualsIgnoreCase, false),
        "stringnotequalsignorecase": (.stringEqualsIgnoreCase, true),
        "stringlike": (.stringLike, false), "stringnotlike": (.stringLike, true),
        "numericequals": (.numericEquals, false), "numericnotequals": (.numericEquals, true),
        "numericlessthan": (.numericLessThan, false), "numericlessthanequals": (.numericLessThanEquals, false),
        "numericgreaterthan": (.numericGreaterThan, false),
        "numericgreaterthanequals": (.numericGreaterThanEquals, false),
        "dateequals": (.dateEquals, false), "datenotequals": (.dateEquals, true),
        "datelessthan": (.dateLessThan, false), "datelessthanequals": (.dateLessThanEquals, false),
        "dategreaterthan": (.dateGreaterThan, false), "dategreaterthanequals": (.dateGreaterThanEquals, false),
        "bool": (.bool, false), "ipaddress": (.ipAddress, false), "notipaddress": (.ipAddress, true),
        "null": (.null, false),
        "arnequals": (.arnLike, false), "arnlike": (.arnLike, false),
        "arnnotequals": (.arnLike, true), "arnnotlike": (.arnLike, true),
        "binaryequals": (.binaryEquals, false),
    ]

    static func parseBlock(_ value: Any, variables: Bool) throws -> [ConditionClause] {
        guard let block = value as? [String: Any] else { throw PolicyError("Condition must be an object") }
        var clauses: [ConditionClause] = []
        for name in block.keys.sorted() {
            var rest = Substring(name)
            var qualifier = Qualifier.single
            if rest.lowercased().hasPrefix("foranyvalue:") {
                qualifier = .forAnyValue
                rest = rest.dropFirst("foranyvalue:".count)
            } else if rest.lowercased().hasPrefix("forallvalues:") {
                qualifier = .forAllValues
                rest = rest.dropFirst("forallvalues:".count)
            }
            var ifExists = false
            if rest.count > "ifexists".count, rest.lowercased().hasSuffix("ifexists") {
                ifExists = true
                rest = rest.dropLast("ifexists".count)
            }
            guard let (kind, negated) = operators[rest.lowercased()], !(kind == .null && ifExists)
            else { throw PolicyError("Invalid Condition operator: \(name)") }
            guard let body = block[name] as? [String: Any], !body.isEmpty else {
                throw PolicyError("Invalid Condition block for operator \(name)")
            }
            for key in body.keys.sorted() {
                guard !key.isEmpty, let raw = body[key].flatMap(conditionValues), !raw.isEmpty else {
                    throw PolicyError("Invalid Condition value for \(name) \(key)")
                }
                let templates = raw.map { PolicyTemplate($0, variables: variables) }
                for template in templates where !template.hasVariables && !Self.isValid(template.raw, for: kind) {
                    throw PolicyError("Invalid Condition value for \(name) \(key): \(template.raw)")
                }
                clauses.append(
                    ConditionClause(
                        operatorName: name, kind: kind, negated: negated, qualifier: qualifier, ifExists: ifExists,
                        key: key.lowercased(), values: templates))
            }
        }
        return clauses
    }

    private static func conditionValues(_ value: Any) -> [String]? {
        if let list = value as? [Any] {
            var out: [String] = []
            for item in list {
                guard let s = scalarString(item) else { return nil }
                out.append(s)
            }
            return out
        }
        return scalarString(value).map { [$0] }
    }

    private static func scalarString(_ value: Any) -> String? {
        if let s = value as? String { return s }
        if let n = value as? NSNumber { return normalize(n) }
        return nil
    }

    private static func isValid(_ value: String, for kind: Kind) -> Bool {
        switch kind {
        case .numericEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan, .numericGreaterThanEquals:
            return ConditionValues.number(value) != nil
        case .dateEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals:
            return ConditionValues.date(value) != nil
        case .bool, .null:
            return ConditionValues.bool(value) != nil
        case .ipAddress:
            return IPNetwork(value) != nil
        case .binaryEquals:
            return Data(base64Encoded: value) != nil
        case .stringEquals, .stringEqualsIgnoreCase, .stringLike, .arnLike:
            return true
        }
    }

    func evaluate(_ context: EvaluationContext) -> Bool {
        let present = context.values(for: key)
        if kind == .null {
            // Null: "true" asks for the key to be absent, "false" for it to be present.
            return values.contains { template in
                guard let wanted = template.string(in: context).flatMap(ConditionValues.bool) else { return false }
                return wanted == (present == nil)
            }
        }
        guard let present else { return ifExists || qualifier == .forAllValues }

        var resolved: [Resolved] = []
        for template in values {
            // An unresolvable policy variable makes the condition false.
            guard let value = resolve(template, in: context) else { return false }
            resolved.append(value)
        }
        func holds(_ contextValue: String) -> Bool { matchesAny(contextValue, resolved) != negated }
        switch qualifier {
        case .single: return negated ? present.allSatisfy(holds) : present.contains(where: holds)
        case .forAnyValue: return present.contains(where: holds)
        case .forAllValues: return present.allSatisfy(holds)
        }
    }

    // MARK: Evaluation helpers

    enum Resolved {
        case text(String)
        case pattern([GlobToken])
        case number(Double)
        case date(Double)
        case bool(Bool)
        case network(IPNetwork)
        case bytes(Data)
    }

    private func resolve(_ template: PolicyTemplate, in context: EvaluationContext) -> Resolved? {
        switch kind {
        case .stringLike, .arnLike:
            return template.glob(in: context).map(Resolved.pattern)
        case .stringEquals:
            return template.string(in: context).map(Resolved.text)
        case .stringEqualsIgnoreCase:
            return template.string(in: context).map { .text($0.lowercased()) }
        case .numericEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan, .numericGreaterThanEquals:
            return template.string(in: context).flatMap(ConditionValues.number).map(Resolved.number)
        case .dateEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals:
            return template.string(in: context).flatMap(ConditionValues.date).map(Resolved.date)
        case .bool, .null:
            return template.string(in: context).flatMap(ConditionValues.bool).map(Resolved.bool)
        case .ipAddress:
            return template.string(in: context).flatMap { IPNetwork($0) }.map(Resolved.network)
        case .binaryEquals:
            return template.string(in: context).flatMap { Data(base64Encoded: $0) }.map(Resolved.bytes)
        }
    }

    /// Whether `contextValue` matches any of the policy values under the positive form of the operator.
    /// A context value not of the operator's type (not a number, date, address...) matches none, so the
    /// negated operators hold for it.
    private func matchesAny(_ contextValue: String, _ policyValues: [Resolved]) -> Bool {
        switch kind {
        case .stringEquals:
            return policyValues.contains { if case .text(let v) = $0 { v == contextValue } else { false } }
        case .stringEqualsIgnoreCase:
            let lower = contextValue.lowercased()
            return policyValues.contains { if case .text(let v) = $0 { v == lower } else { false } }
        case .stringLike:
            let chars = Array(contextValue)
            return policyValues.contains { if case .pattern(let p) = $0 { Glob.matches(p, chars) } else { false } }
        case .arnLike:
            return policyValues.contains {
                if case .pattern(let p) = $0 { Glob.matchesARN(p, contextValue) } else { false }
            }
        case .numericEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan, .numericGreaterThanEquals:
            guard let c = ConditionValues.number(contextValue) else { return false }
            return policyValues.contains { if case .number(let v) = $0 { compare(c, v) } else { false } }
        case .dateEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals:
            guard let c = ConditionValues.date(contextValue) else { return false }
            return policyValues.contains { if case .date(let v) = $0 { compare(c, v) } else { false } }
        case .bool, .null:
            guard let c = ConditionValues.bool(contextValue) else { return false }
            return policyValues.contains { if case .bool(let v) = $0 { v == c } else { false } }
        case .ipAddress:
            guard let address = IPNetwork.address(contextValue) else { return false }
            return policyValues.contains { if case .network(let n) = $0 { n.contains(address) } else { false } }
        case .binaryEquals:
            let c = Data(base64Encoded: contextValue)
            return policyValues.contains {
                guard case .bytes(let v) = $0 else { return false }
                return c.map { $0 == v } ?? false
            }
        }
    }

    /// `context <op> policy` for the ordered numeric and date operators.
    private func compare(_ c: Double, _ v: Double) -> Bool {
        switch kind {
        case .numericLessThan, .dateLessThan: return c < v
        case .numericLessThanEquals, .dateLessThanEquals: return c <= v
        case .numericGreaterThan, .dateGreaterThan: return c > v
        case .numericGreaterThanEquals, .dateGreaterThanEquals: return c >= v
        default: return c == v
        }
    }

    // MARK: IsPublic

    private static let restrictingKeys: Set<String> = [
        "aws:sourceip", "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceaccount", "aws:sourceowner",
        "aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:userid", "aws:username",
        "s3:dataaccesspointarn", "s3:dataaccesspointaccount",
    ]

    /// Whether this clause pins the statement to fixed values of a source/identity key, so that it no longer
    /// grants access to the whole world.
    func restrictsToFixedSource(variables: Bool) -> Bool {
        guard Self.restrictingKeys.contains(key), !negated, !ifExists, qualifier != .forAllValues else { return false }
        let raws = values.map(\.raw)
        if variables && raws.contains(where: { $0.contains("${") }) { return false }
        if key == "aws:sourceip" {
            guard kind == .ipAddress else { return false }
            return raws.allSatisfy { (IPNetwork($0)?.prefix ?? 0) > 0 }
        }
        switch kind {
        case .stringEquals, .stringEqualsIgnoreCase, .stringLike, .arnLike:
            return raws.allSatisfy { !$0.isEmpty && !$0.contains("*") && !$0.contains("?") }
        default:
            return false
        }
    }
}

/// Parsers for the typed condition operators.
enum ConditionValues {
    static func number(_ s: String) -> Double? {
        guard let d = Double(s), d.isFinite else { return nil }
        return d
    }

    static func bool(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }

    /// ISO 8601 / W3C date-time ("2020-01-01", "2020-01-01T00:00Z", "2020-01-01T00:00:00.123+02:00", ...) or
    /// epoch seconds; the result is seconds since 1970.
    static func date(_ s: String) -> Double? {
        let b = Array(s.utf8)
        guard !b.isEmpty else { return nil }
        if b.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }),
            !b.dropFirst().contains(UInt8(ascii: "-"))
        {
            return number(s)
        }
        var i = 0
        func digits(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var value = 0
            for k in i..<(i + n) {
                guard isDigit(b[k]) else { return nil }
                value = value * 10 + Int(b[k] - UInt8(ascii: "0"))
            }
            i += n
            return value
        }
        func accept(_ c: Character) -> Bool {
            guard i < b.count, let ascii = c.asciiValue, b[i] == ascii else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), accept("-"), let month = digits(2), accept("-"), let day = digits(2) else {
            return nil
        }
        var hour = 0
        var minute = 0
        var second = 0
        var fraction = 0.0
        var offset = 0
        if i < b.count {
            guard accept("T") || accept("t"), let h = digits(2), accept(":"), let m = digits(2) else { return nil }
            hour = h
            minute = m
            if accept(":") {
                guard let sec = digits(2) else { return nil }
                second = sec
                if accept(".") || accept(",") {
                    let start = i
                    while i < b.count, isDigit(b[i]) { i += 1 }
                    guard i > start, let f = Double("0." + String(decoding: b[start..<i], as: UTF8.self)) else {
                        return nil
                    }
                    fraction = f
                }
            }
            if accept("Z") || accept("z") {
                // UTC
            } else if i < b.count {
                let sign: Int
                if accept("+") { sign = 1 } else if accept("-") { sign = -1 } else { return nil }
                guard let oh = digits(2) else { return nil }
                var om = 0
                if i < b.count {
                    _ = accept(":")
                    guard let m = digits(2) else { return nil }
                    om = m
                }
                guard oh <= 23, om <= 59 else { return nil }
                offset = sign * (oh * 3600 + om * 60)
            }
        }
        guard i == b.count, (1...12).contains(month), day >= 1, day <= daysInMonth(year, month), hour <= 23,
            minute <= 59, second <= 60
        else { return nil }
        let days = daysFromCivil(year, month, day)
        return Double(days * 86400 + hour * 3600 + minute * 60 + second - offset) + fraction
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    private static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    private static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}

// MARK: - Request context

struct EvaluationContext {
    private var storage: [String: [String]] = [:]

    init(_ context: [String: [String]]) {
        for (key, list) in context where !list.isEmpty {
            storage[key.lowercased(), default: []].append(contentsOf: list)
        }
    }

    /// nil when the key is missing.
    func values(for key: String) -> [String]? { storage[key.lowercased()] }
}

// MARK: - Policy variables and wildcards

enum GlobToken: Sendable, Equatable {
    case char(Character)
    case anySequence
    case anyOne
}

enum Glob {
    static func tokens(_ pattern: some StringProtocol) -> [GlobToken] {
        pattern.map { c in
            switch c {
            case "*": .anySequence
            case "?": .anyOne
            default: .char(c)
            }
        }
    }

    static func literal(_ text: some StringProtocol) -> [GlobToken] { text.map { .char($0) } }

    static func hasWildcard(_ pattern: some StringProtocol) -> Bool { pattern.contains("*") || pattern.contains("?") }

    /// `*` matches any run of characters (including "/" and none), `?` exactly one character.
    static func matches(_ pattern: [GlobToken], _ value: [Character]) -> Bool {
        var p = 0
        var v = 0
        var star = -1
        var starValue = 0
        while v < value.count {
            if p < pattern.count {
                switch pattern[p] {
                case .anySequence:
                    star = p
                    starValue = v
                    p += 1
                    continue
                case .anyOne:
                    p += 1
                    v += 1
                    continue
                case .char(let c) where c == value[v]:
                    p += 1
                    v += 1
                    continue
                case .char:
                    break
                }
            }
            guard star >= 0 else { return false }
            p = star + 1
            starValue += 1
            v = starValue
        }
        while p < pattern.count, pattern[p] == .anySequence { p += 1 }
        return p == pattern.count
    }

    /// ArnEquals / ArnLike: each of the six colon-separated ARN components is matched separately.
    static func matchesARN(_ pattern: [GlobToken], _ value: String) -> Bool {
        var patternParts: [[GlobToken]] = [[]]
        for token in pattern {
            if token == .char(":") && patternParts.count < 6 {
                patternParts.append([])
            } else {
                patternParts[patternParts.count - 1].append(token)
            }
        }
        let valueParts = value.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard patternParts.count == 6, valueParts.count == 6 else { return matches(pattern, Array(value)) }
        return zip(patternParts, valueParts).allSatisfy { matches($0, Array($1)) }
    }
}

/// A Resource or condition value with optional policy variables (`${aws:username}`, `${*}`, `${?}`, `${$}`,
/// `${key, 'default'}`).
struct PolicyTemplate: Sendable, Equatable {
    enum Piece: Sendable, Equatable {
        /// Text in which `*` and `?` are wildcards (for operators that use them).
        case pattern(String)
        /// Text that is always literal (from `${*}`, `${?}`, `${$}` or a substituted variable).
        case literal(String)
        case variable(name: String, defaultValue: String?)
    }

    var raw: String
    var pieces: [Piece]
    var hasVariables: Bool { pieces.contains { if case .variable = $0 { true } else { false } } }

    init(_ raw: String, variables: Bool) {
        self.raw = raw
        guard variables, raw.contains("${") else {
            pieces = [.pattern(raw)]
            return
        }
        var pieces: [Piece] = []
        var rest = Substring(raw)
        while let open = rest.range(of: "${") {
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else { break }
            if open.lowerBound > rest.startIndex { pieces.append(.pattern(String(rest[..<open.lowerBound]))) }
            let inner = rest[open.upperBound..<close]
            switch inner {
            case "*", "?", "$": pieces.append(.literal(String(inner)))
            default:
                if let comma = inner.firstIndex(of: ",") {
                    let name = inner[..<comma].trimmingCharacters(in: .whitespaces)
                    var fallback = inner[inner.index(after: comma)...].trimmingCharacters(in: .whitespaces)
                    if fallback.count >= 2, fallback.hasPrefix("'"), fallback.hasSuffix("'") {
                        fallback = String(fallback.dropFirst().dropLast())
                    }
                    pieces.append(.variable(name: name, defaultValue: fallback))
                } else {
                    pieces.append(.variable(name: String(inner), defaultValue: nil))
                }
            }
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { pieces.append(.pattern(String(rest))) }
        self.pieces = pieces
    }

    private func substitute(_ name: String, _ fallback: String?, _ context: EvaluationContext) -> String? {
        context.values(for: name)?.first ?? fallback
    }

    /// The value as plain text; nil when a variable can't be resolved.
    func string(in context: EvaluationContext) -> String? {
        var out = ""
        for piece in pieces {
            switch piece {
            case .pattern(let s), .literal(let s): out += s
            case .variable(let name, let fallback):
                guard let value = substitute(name, fallback, context) else { return nil }
                out += value
            }
        }
        return out
    }

    /// The value as a wildcard pattern; nil when a variable can't be resolved.
    func glob(in context: EvaluationContext) -> [GlobToken]? {
        var out: [GlobToken] = []
        for piece in pieces {
            switch piece {
            case .pattern(let s): out += Glob.tokens(s)
            case .literal(let s): out += Glob.literal(s)
            case .variable(let name, let fallback):
                guard let value = substitute(name, fallback, context) else { return nil }
                out += Glob.literal(value)
            }
        }
        return out
    }
}

// MARK: - IP addresses

struct IPNetwork: Sendable, Equatable {
    /// 4 bytes for IPv4, 16 for IPv6.
    var bytes: [UInt8]
    var prefix: Int

    /// "192.0.2.0/24", "2001:db8::/32", or a plain address (= /32 or /128).
    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = Self.address(parts[0]) else { return nil }
        bytes = address
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy(\.isASCII), let p = Int(parts[1]), p >= 0,
                p <= address.count * 8
            else { return nil }
            prefix = p
        } else {
            prefix = address.count * 8
        }
    }

    func contains(_ address: [UInt8]) -> Bool {
        var address = address
        if bytes.count == 4, address.count == 16, address[0..<10].allSatisfy({ $0 == 0 }), address[10] == 0xFF,
            address[11] == 0xFF
        {
            address = Array(address[12...])  // IPv4-mapped IPv6
        }
        guard address.count == bytes.count else { return false }
        var remaining = prefix
        for (a, n) in zip(address, bytes) where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            guard a & mask == n & mask else { return false }
            remaining -= 8
        }
        return true
    }

    static func address(_ text: some StringProtocol) -> [UInt8]? {
        text.contains(":") ? ipv6(Substring(text)) : ipv4(Substring(text))
    }

    private static func ipv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = UInt8(part)
            else { return nil }
            out.append(value)
        }
        return out
    }

    private static func ipv6(_ input: Substring) -> [UInt8]? {
        var text = input
        if let zone = text.firstIndex(of: "%") { text = text[..<zone] }
        func groups(_ part: Substring, allowIPv4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            var out: [UInt16] = []
            for (index, field) in fields.enumerated() {
                if allowIPv4 && index == fields.count - 1 && field.contains(".") {
                    guard let v4 = ipv4(field) else { return nil }
                    out.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    out.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                } else {
                    guard (1...4).contains(field.count), field.allSatisfy(\.isHexDigit),
                        let value = UInt16(field, radix: 16)
                    else { return nil }
                    out.append(value)
                }
            }
            return out
        }
        let all: [UInt16]
        if let gap = text.range(of: "::") {
            let tail = text[gap.upperBound...]
            guard !tail.contains("::"), let head = groups(text[..<gap.lowerBound], allowIPv4: false),
                let rest = groups(tail, allowIPv4: true), head.count + rest.count <= 7
            else { return nil }
            all = head + Array(repeating: 0, count: 8 - head.count - rest.count) + rest
        } else {
            guard let g = groups(text, allowIPv4: true), g.count == 8 else { return nil }
            all = g
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}

// MARK: - S3 actions

enum S3Actions {
    /// What an action applies to, for the "Action does not apply to any resource(s)" check.
    enum Scope: Sendable, Equatable { case object, bucket, other }

    private static let objectActions = [
        "AbortMultipartUpload", "BypassGovernanceRetention", "DeleteObject", "DeleteObjectTagging",
        "DeleteObjectVersion", "DeleteObjectVersionTagging", "GetObject", "GetObjectAcl", "GetObjectAttributes",
        "GetObjectLegalHold", "GetObjectRetention", "GetObjectTagging", "GetObjectTorrent", "GetObjectVersion",
        "GetObjectVersionAcl", "GetObjectVersionAttributes", "GetObjectVersionForReplication",
        "GetObjectVersionTagging", "GetObjectVersionTorrent", "InitiateReplication", "ListMultipartUploadParts",
        "ObjectOwnerOverrideToBucketOwner", "PutObject", "PutObjectAcl", "PutObjectLegalHold", "PutObjectRetention",
        "PutObjectTagging", "PutObjectVersionAcl", "PutObjectVersionTagging", "ReplicateDelete", "ReplicateObject",
        "ReplicateTags", "RestoreObject",
    ]

    private static let bucketActions = [
        "CreateBucketMetadataConfiguration", "CreateBucketMetadataTableConfiguration", "DeleteBucket",
        "DeleteBucketMetadataConfiguration", "DeleteBucketMetadataTableConfiguration",
        "DeleteBucketOwnershipControls", "DeleteBucketPolicy", "DeleteBucketWebsite", "GetAccelerateConfiguration",
        "GetAnalyticsConfiguration", "GetBucketAcl", "GetBucketCORS", "GetBucketLocation", "GetBucketLogging",
        "GetBucketMetadataConfiguration", "GetBucketMetadataTableConfiguration", "GetBucketNotification",
        "GetBucketObjectLockConfiguration", "GetBucketOwnershipControls", "GetBucketPolicy", "GetBucketPolicyStatus",
        "GetBucketPublicAccessBlock", "GetBucketRequestPayment", "GetBucketTagging", "GetBucketVersioning",
        "GetBucketWebsite", "GetEncryptionConfiguration", "GetIntelligentTieringConfiguration",
        "GetInventoryConfiguration", "GetLifecycleConfiguration", "GetMetricsConfiguration",
        "GetReplicationConfiguration", "ListBucket", "ListBucketMultipartUploads", "ListBucketVersions",
        "PutAccelerateConfiguration", "PutAnalyticsConfiguration", "PutBucketAcl", "PutBucketCORS",
        "PutBucketLogging", "PutBucketNotification", "PutBucketObjectLockConfiguration", "PutBucketOwnershipControls",
        "PutBucketPolicy", "PutBucketPublicAccessBlock", "PutBucketRequestPayment", "PutBucketTagging",
        "PutBucketVersioning", "PutBucketWebsite", "PutEncryptionConfiguration", "PutIntelligentTieringConfiguration",
        "PutInventoryConfiguration", "PutLifecycleConfiguration", "PutMetricsConfiguration",
        "PutReplicationConfiguration", "UpdateBucketMetadataInventoryTableConfiguration",
        "UpdateBucketMetadataJournalTableConfiguration",
    ]

    /// Service-level actions and actions on other resource types (access points, jobs, Storage Lens,
    /// Multi-Region Access Points, Access Grants, account settings).
    private static let otherActions = [
        "CreateBucket", "ListAllMyBuckets",
        "CreateAccessPoint", "CreateAccessPointForObjectLambda", "DeleteAccessPoint",
        "DeleteAccessPointForObjectLambda",
        "DeleteAccessPointPolicy", "DeleteAccessPointPolicyForObjectLambda", "GetAccessPoint",
        "GetAccessPointConfigurationForObjectLambda", "GetAccessPointForObjectLambda", "GetAccessPointPolicy",
        "GetAccessPointPolicyForObjectLambda", "GetAccessPointPolicyStatus",
        "GetAccessPointPolicyStatusForObjectLambda",
        "ListAccessPoints", "ListAccessPointsForObjectLambda", "PutAccessPointConfigurationForObjectLambda",
        "PutAccessPointPolicy", "PutAccessPointPolicyForObjectLambda", "PutAccessPointPublicAccessBlock",
        "GetAccountPublicAccessBlock", "PutAccountPublicAccessBlock",
        "CreateJob", "DescribeJob", "ListJobs", "UpdateJobPriority", "UpdateJobStatus", "GetJobTagging",
        "PutJobTagging", "DeleteJobTagging",
        "CreateMultiRegionAccessPoint", "DeleteMultiRegionAccessPoint", "DescribeMultiRegionAccessPointOperation",
        "GetMultiRegionAccessPoint", "GetMultiRegionAccessPointPolicy", "GetMultiRegionAccessPointPolicyStatus",
        "GetMultiRegionAccessPointRoutes", "ListMultiRegionAccessPoints", "PutMultiRegionAccessPointPolicy",
        "SubmitMultiRegionAccessPointRoutes",
        "GetStorageLensConfiguration", "GetStorageLensConfigurationTagging", "GetStorageLensDashboard",
        "ListStorageLensConfigurations", "PutStorageLensConfiguration", "PutStorageLensConfigurationTagging",
        "DeleteStorageLensConfiguration", "DeleteStorageLensConfigurationTagging", "CreateStorageLensGroup",
        "DeleteStorageLensGroup", "GetStorageLensGroup", "ListStorageLensGroups", "UpdateStorageLensGroup",
        "ListTagsForResource", "TagResource", "UntagResource",
        "AssociateAccessGrantsIdentityCenter", "CreateAccessGrant", "CreateAccessGrantsInstance",
        "CreateAccessGrantsLocation", "DeleteAccessGrant", "DeleteAccessGrantsInstance",
        "DeleteAccessGrantsInstanceResourcePolicy", "DeleteAccessGrantsLocation",
        "DissociateAccessGrantsIdentityCenter",
        "GetAccessGrant", "GetAccessGrantsInstance", "GetAccessGrantsInstanceForPrefix",
        "GetAccessGrantsInstanceResourcePolicy", "GetAccessGrantsLocation", "GetDataAccess", "ListAccessGrants",
        "ListAccessGrantsInstances", "ListAccessGrantsLocations", "ListCallerAccessGrants",
        "PutAccessGrantsInstanceResourcePolicy", "UpdateAccessGrantsLocation",
    ]

    /// Lowercased action name (without "s3:") -> scope.
    static let scopes: [String: Scope] = {
        var out: [String: Scope] = [:]
        for name in otherActions { out[name.lowercased()] = .other }
        for name in bucketActions { out[name.lowercased()] = .bucket }
        for name in objectActions { out[name.lowercased()] = .object }
        return out
    }()

    private static let lowercasedNames: [[Character]] = scopes.keys.sorted().map { Array($0) }

    /// The lowercased pattern of a policy action, and its scope when it names a single action.
    static func validate(_ action: String) throws -> ([GlobToken], Scope?) {
        let invalid = PolicyError("Policy has invalid action")
        let lower = action.lowercased()
        if lower == "*" { return ([.anySequence], nil) }
        guard lower.hasPrefix("s3:") else { throw invalid }
        let name = lower.dropFirst(3)
        if Glob.hasWildcard(name) {
            let pattern = Glob.tokens(name)
            guard lowercasedNames.contains(where: { Glob.matches(pattern, $0) }) else { throw invalid }
            return (Glob.tokens(lower), nil)
        }
        guard let scope = scopes[String(name)] else { throw invalid }
        return (Glob.tokens(lower), scope)
    }
}

// MARK: - JSON helpers

/// A string or an array of strings.
private func stringList(_ value: Any) -> [String]? {
    if let s = value as? String { return [s] }
    guard let list = value as? [Any] else { return nil }
    var out: [String] = []
    for item in list {
        guard let s = item as? String else { return nil }
        out.append(s)
    }
    return out
}

/// JSON numbers and booleans as condition values: true/false, or the number's decimal text.
private func normalize(_ number: NSNumber) -> String {
    switch String(cString: number.objCType) {
    case "c", "B":
        return number.boolValue ? "true" : "false"
    case "d", "f":
        let double = number.doubleValue
        if double == double.rounded(), abs(double) < 1e15 { return String(Int64(double)) }
        return String(double)
    default:
        return number.stringValue
    }
}
