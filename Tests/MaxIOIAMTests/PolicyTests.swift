import Foundation
import MaxIOIAM
import Testing

// MARK: - Helpers

private let bucketARN = "arn:aws:s3:::bucket"
private func object(_ key: String) -> String { "arn:aws:s3:::bucket/" + key }

private func parse(_ json: String) throws -> BucketPolicy { try BucketPolicy.parse(json, bucket: "bucket") }

/// A Version 2012-10-17 policy around `statements` (JSON text of one statement object or an array of them).
private func policy(_ statements: String) throws -> BucketPolicy {
    try parse(#"{"Version":"2012-10-17","Statement":\#(statements)}"#)
}

private func parseError(_ json: String) -> String? {
    do {
        _ = try parse(json)
        return nil
    } catch let error as PolicyError {
        return error.message
    } catch {
        return "unexpected \(error)"
    }
}

private func principal(_ tenant: String, _ user: String) -> PolicyPrincipal {
    PolicyPrincipal(
        canonicalID: "\(user)-canonical",
        awsIdentifiers: [
            "arn:aws:iam::\(tenant):user/\(user)", "arn:aws:iam::\(tenant):root", tenant, "\(user)-canonical",
        ])
}

private let alice = principal("acme", "alice")
private let bob = principal("acme", "bob")
private let mallory = principal("evil", "mallory")

private func decide(
    _ policy: BucketPolicy, _ action: String, _ resource: String, as who: PolicyPrincipal = .anonymous,
    _ context: [String: [String]] = [:]
) -> PolicyDecision {
    policy.evaluate(PolicyRequest(principal: who, action: action, resource: resource, context: context))
}

/// Allow GetObject on every object for everyone, subject to `condition` (JSON text).
private func conditionalRead(_ condition: String) throws -> BucketPolicy {
    try policy(
        #"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*","Condition":\#(condition)}"#
    )
}

private func readDecision(_ condition: String, _ context: [String: [String]]) throws -> PolicyDecision {
    decide(try conditionalRead(condition), "s3:GetObject", object("k"), context)
}

// MARK: - AWS documentation examples

@Suite struct PolicyExampleTests {
    @Test func publicRead() throws {
        let p = try policy(
            #"[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]"#
        )
        #expect(decide(p, "s3:GetObject", object("photos/cat.jpg")) == .allow)
        #expect(decide(p, "s3:GetObject", object("a"), as: alice) == .allow)
        #expect(decide(p, "s3:PutObject", object("a")) == .notApplicable)
        #expect(decide(p, "s3:ListBucket", bucketARN) == .notApplicable)
        #expect(decide(p, "s3:GetObject", bucketARN) == .notApplicable)
        #expect(decide(p, "s3:GetObject", "arn:aws:s3:::bucket2/a") == .notApplicable)
        #expect(p.isPublic)
    }

    static let secureTransportPolicy = #"""
        {"Version":"2012-10-17","Statement":[
          {"Sid":"AllowSSLRequestsOnly","Effect":"Deny","Principal":"*","Action":"s3:*",
           "Resource":["arn:aws:s3:::bucket","arn:aws:s3:::bucket/*"],
           "Condition":{"Bool":{"aws:SecureTransport":"false"}}},
          {"Sid":"Read","Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:ListBucket"],
           "Resource":["arn:aws:s3:::bucket","arn:aws:s3:::bucket/*"]}]}
        """#

    @Test(arguments: [
        (Optional("true"), PolicyDecision.allow), ("false", .deny), ("FALSE", .deny), ("True", .allow),
        (nil, .allow),  // a missing key makes Bool false, so the Deny does not apply
    ])
    func denyUnlessSecureTransport(_ secure: String?, _ expected: PolicyDecision) throws {
        let p = try parse(Self.secureTransportPolicy)
        let context = secure.map { ["aws:SecureTransport": [$0]] } ?? [:]
        #expect(decide(p, "s3:GetObject", object("a"), context) == expected)
        #expect(decide(p, "s3:ListBucket", bucketARN, context) == expected)
        // Not allowed anyway, but the Deny still shows when it applies.
        #expect(decide(p, "s3:PutObject", object("a"), context) == (expected == .deny ? .deny : .notApplicable))
    }

    @Test(arguments: [
        (Optional("192.0.2.1"), PolicyDecision.allow), ("192.0.2.255", .allow), ("192.0.3.1", .deny),
        ("203.0.113.7", .allow), ("203.0.113.8", .deny), ("2001:db8::1", .deny), ("::ffff:192.0.2.9", .allow),
        ("garbage", .deny),  // not an address, so in none of the ranges
        (nil, .allow),  // NotIpAddress with a missing key is false
    ])
    func ipRestriction(_ ip: String?, _ expected: PolicyDecision) throws {
        let p = try policy(
            #"""
            [{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::bucket","arn:aws:s3:::bucket/*"],
              "Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.7"]}}},
             {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::acme:user/alice"},"Action":"s3:GetObject",
              "Resource":"arn:aws:s3:::bucket/*"}]
            """#)
        let context = ip.map { ["aws:SourceIp": [$0]] } ?? [:]
        #expect(decide(p, "s3:GetObject", object("a"), as: alice, context) == expected)
    }

    static let homeDirectories = #"""
        [{"Sid":"List","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::acme:user/alice","arn:aws:iam::acme:user/bob"]},
          "Action":"s3:ListBucket","Resource":"arn:aws:s3:::bucket",
          "Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*","home/${aws:username}"]}}},
         {"Sid":"Objects","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::acme:user/alice","arn:aws:iam::acme:user/bob"]},
          "Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket/home/${aws:username}/*"}]
        """#

    @Test(arguments: [
        ("home/alice/docs", PolicyDecision.allow), ("home/alice/", .allow), ("home/alice", .allow),
        ("home/bob/", .notApplicable), ("home/", .notApplicable), ("home/alicex/", .notApplicable),
    ])
    func listBucketByUserPrefix(_ prefix: String, _ expected: PolicyDecision) throws {
        let p = try policy(Self.homeDirectories)
        let context = ["aws:username": ["alice"], "s3:prefix": [prefix]]
        #expect(decide(p, "s3:ListBucket", bucketARN, as: alice, context) == expected)
    }

    @Test func homeDirectoryObjects() throws {
        let p = try policy(Self.homeDirectories)
        let aliceContext = ["aws:username": ["alice"]]
        #expect(decide(p, "s3:ListBucket", bucketARN, as: alice, aliceContext) == .notApplicable)  // no s3:prefix
        #expect(decide(p, "s3:GetObject", object("home/alice/notes.txt"), as: alice, aliceContext) == .allow)
        #expect(decide(p, "s3:PutObject", object("home/alice/a/b/c"), as: alice, aliceContext) == .allow)
        #expect(decide(p, "s3:GetObject", object("home/bob/notes.txt"), as: alice, aliceContext) == .notApplicable)
        #expect(decide(p, "s3:GetObject", object("home/bob/notes.txt"), as: bob, ["aws:username": ["bob"]]) == .allow)
        // Without aws:username the variable can't be resolved and the statement doesn't match.
        #expect(decide(p, "s3:GetObject", object("home/alice/notes.txt"), as: alice) == .notApplicable)
        #expect(
            decide(p, "s3:GetObject", object("home/mallory/x"), as: mallory, ["aws:username": ["mallory"]])
                == .notApplicable)
    }

    @Test func explicitDenyOverridesAllow() throws {
        let p = try policy(
            #"""
            [{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::bucket","arn:aws:s3:::bucket/*"]},
             {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::evil:root"},"Action":"s3:*","Resource":"arn:aws:s3:::bucket/*"},
             {"Effect":"Allow","Principal":{"AWS":"evil"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]
            """#)
        #expect(decide(p, "s3:GetObject", object("a"), as: mallory) == .deny)
        #expect(decide(p, "s3:ListBucket", bucketARN, as: mallory) == .allow)
        #expect(decide(p, "s3:GetObject", object("a"), as: alice) == .allow)
        #expect(decide(p, "s3:DeleteObject", object("a")) == .allow)
    }

    @Test func notAction() throws {
        let p = try policy(
            #"""
            [{"Effect":"Deny","Principal":"*","NotAction":["s3:GetObject","s3:ListBucket"],
              "Resource":["arn:aws:s3:::bucket","arn:aws:s3:::bucket/*"]},
             {"Effect":"Allow","Principal":{"AWS":"acme"},"Action":"s3:*","Resource":["arn:aws:s3:::bucket","arn:aws:s3:::bucket/*"]}]
            """#)
        #expect(decide(p, "s3:GetObject", object("a"), as: alice) == .allow)
        #expect(decide(p, "s3:ListBucket", bucketARN, as: bob) == .allow)
        #expect(decide(p, "s3:PutObject", object("a"), as: alice) == .deny)
        #expect(decide(p, "s3:DeleteBucket", bucketARN, as: alice) == .deny)
        #expect(decide(p, "s3:GetObject", object("a"), as: mallory) == .notApplicable)
    }

    @Test func notResource() throws {
        let p = try policy(
            #"""
            [{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","NotResource":"arn:aws:s3:::bucket/private/*"},
             {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::acme:user/bob"},"Action":"s3:*",
              "NotResource":["arn:aws:s3:::bucket/bob/*"]}]
            """#)
        #expect(decide(p, "s3:GetObject", object("public/a")) == .allow)
        #expect(decide(p, "s3:GetObject", object("private/a")) == .notApplicable)
        #expect(decide(p, "s3:GetObject", object("public/a"), as: bob) == .deny)
        #expect(decide(p, "s3:GetObject", object("bob/a"), as: bob) == .allow)
    }

    @Test func notPrincipal() throws {
        let p = try policy(
            #"""
            [{"Effect":"Allow","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::bucket/*"},
             {"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::acme:user/alice"]},"Action":"s3:DeleteObject",
              "Resource":"arn:aws:s3:::bucket/*"}]
            """#)
        #expect(decide(p, "s3:DeleteObject", object("a"), as: alice) == .allow)
        #expect(decide(p, "s3:DeleteObject", object("a"), as: bob) == .deny)
        #expect(decide(p, "s3:DeleteObject", object("a")) == .deny)
    }
}

// MARK: - Matching rules

@Suite struct PolicyMatchingTests {
    @Test(arguments: ["s3:GetObject", "S3:GETOBJECT", "s3:getobject", "s3:GetObJect"])
    func actionsMatchCaseInsensitively(_ action: String) throws {
        let p = try policy(
            #"{"Effect":"Allow","Principal":"*","Action":"S3:getObject","Resource":"arn:aws:s3:::bucket/*"}"#)
        #expect(decide(p, action, object("a")) == .allow)
        #expect(decide(p, action + "Acl", object("a")) == .notApplicable)
    }

    @Test func resourcesMatchCaseSensitively() throws {
        let p = try policy(
            #"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/Photos/*"}"#)
        #expect(decide(p, "s3:GetObject", object("Photos/a.jpg")) == .allow)
        #expect(decide(p, "s3:GetObject", object("photos/a.jpg")) == .notApplicable)
        #expect(decide(p, "s3:GetObject", object("PHOTOS/a.jpg")) == .notApplicable)
    }

    @Test(arguments: [
        ("s3:GetObjectTagging", "logs/2024-01.txt", PolicyDecision.allow),
        ("s3:GetObject", "logs/2024-01.txt", .allow),
        ("s3:GetObject", "logs/2024-01/02.txt", .allow),  // "*" spans "/"
        ("s3:GetObject", "logs/2024/01.txt", .notApplicable),
        ("s3:GetObject", "logs/202-01.txt", .notApplicable),  // "????" needs exactly four characters
        ("s3:GetObject", "logs/2024-01.txt.gz", .notApplicable),
        ("s3:PutObject", "logs/2024-01.txt", .notApplicable),
        ("s3:ListBucketVersions", "logs/2024-01.txt", .notApplicable),
    ])
    func wildcardActionsAndResources(_ action: String, _ key: String, _ expected: PolicyDecision) throws {
        let p = try policy(
            #"{"Effect":"Allow","Principal":"*","Action":["s3:Get*","s3:List?ucket"],"Resource":"arn:aws:s3:::bucket/logs/????-*.txt"}"#
        )
        #expect(decide(p, action, object(key)) == expected)
    }

    @Test func wildcardActionMatchesBucketLevel() throws {
        let p = try policy(
            #"{"Effect":"Allow","Principal":"*","Action":"s3:List?ucket","Resource":"arn:aws:s3:::bucket"}"#)
        #expect(decide(p, "s3:ListBucket", bucketARN) == .allow)
        #expect(decide(p, "s3:ListBucketVersions", bucketARN) == .notApplicable)
    }

    @Test func principals() throws {
        let p = try policy(
            #"""
            {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::acme:user/alice","evil"],"CanonicalUser":"bob-canonical",
             "Service":"logging.s3.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}
            """#)
        #expect(decide(p, "s3:GetObject", object("a"), as: alice) == .allow)  // user ARN
        #expect(decide(p, "s3:GetObject", object("a"), as: mallory) == .allow)  // account id
        #expect(decide(p, "s3:GetObject", object("a"), as: bob) == .allow)  // canonical id
        #expect(decide(p, "s3:GetObject", object("a")) == .notApplicable)  // anonymous
        let carol = principal("acme", "carol")
        #expect(decide(p, "s3:GetObject", object("a"), as: carol) == .notApplicable)
        // Service principals never match a user, even one that claims the service's name.
        let service = PolicyPrincipal(canonicalID: "svc", awsIdentifiers: ["logging.s3.amazonaws.com"])
        #expect(decide(p, "s3:GetObject", object("a"), as: service) == .notApplicable)
        // AWS ARNs compare case-sensitively.
        let shouting = PolicyPrincipal(canonicalID: "x", awsIdentifiers: ["arn:aws:iam::acme:user/ALICE"])
        #expect(decide(p, "s3:GetObject", object("a"), as: shouting) == .notApplicable)
    }

    @Test(arguments: [#""*""#, #"{"AWS":"*"}"#, #"{"AWS":["arn:aws:iam::acme:user/alice","*"]}"#])
    func everyonePrincipalIncludesAnonymous(_ principalJSON: String) throws {
        let p = try policy(
            #"{"Effect":"Allow","Principal":\#(principalJSON),"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}"#
        )
        #expect(decide(p, "s3:GetObject", object("a")) == .allow)
        #expect(decide(p, "s3:GetObject", object("a"), as: mallory) == .allow)
        #expect(p.isPublic)
    }

    @Test func policyVariablesNeedVersion20121017() throws {
        // Without a Version (i.e. 2008-10-17) AWS treats ${...} as literal text.
        for prefix in [#"{"Statement":"#, #"{"Version":"2008-10-17","Statement":"#] {
            let p = try parse(
                prefix
                    + #"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/home/${aws:username}/*"}}"#
            )
            #expect(decide(p, "s3:GetObject", object("home/alice/a"), ["aws:username": ["alice"]]) == .notApplicable)
            #expect(decide(p, "s3:GetObject", object("home/${aws:username}/a"), ["aws:username": ["alice"]]) == .allow)
        }
    }

    @Test func specialVariablesAreLiteral() throws {
        let p = try policy(
            #"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":["arn:aws:s3:::bucket/star${*}q${?}d${$}","arn:aws:s3:::bucket/u/${aws:username, 'guest'}/*"]}"#
        )
        #expect(decide(p, "s3:GetObject", object("star*q?d$")) == .allow)
        #expect(decide(p, "s3:GetObject", object("starXqYd$")) == .notApplicable)
        #expect(decide(p, "s3:GetObject", object("u/guest/a")) == .allow)  // default value
        #expect(decide(p, "s3:GetObject", object("u/guest/a"), ["aws:username": ["alice"]]) == .notApplicable)
        #expect(decide(p, "s3:GetObject", object("u/alice/a"), ["AWS:UserName": ["alice"]]) == .allow)
        // A substituted value's "*" is literal, too.
        #expect(decide(p, "s3:GetObject", object("u/alice/a"), ["aws:username": ["*"]]) == .notApplicable)
    }
}

// MARK: - Conditions

@Suite struct PolicyConditionTests {
    @Test(arguments: ["aws:SourceIp", "AWS:SOURCEIP", "aws:sourceip", "Aws:SourceIP"])
    func conditionKeysAreCaseInsensitive(_ contextKey: String) throws {
        let condition = #"{"IpAddress":{"aws:sourceIP":"192.0.2.0/24"}}"#
        #expect(try readDecision(condition, [contextKey: ["192.0.2.10"]]) == .allow)
        #expect(try readDecision(condition, [contextKey: ["198.51.100.1"]]) == .notApplicable)
    }

    @Test(arguments: [
        ("StringEquals", "public-read", PolicyDecision.allow), ("StringEquals", "PUBLIC-READ", .notApplicable),
        ("StringEqualsIgnoreCase", "PUBLIC-READ", .allow), ("StringEqualsIgnoreCase", "private", .notApplicable),
        ("StringNotEqualsIgnoreCase", "PUBLIC-READ", .notApplicable), ("StringNotEqualsIgnoreCase", "private", .allow),
        ("StringLike", "public-read", .allow), ("StringLike", "Public-Read", .notApplicable),
    ])
    func conditionValuesAreCaseSensitive(_ op: String, _ acl: String, _ expected: PolicyDecision) throws {
        #expect(try readDecision(#"{"\#(op)":{"s3:x-amz-acl":"public-read"}}"#, ["s3:x-amz-acl": [acl]]) == expected)
    }

    @Test(arguments: [
        ("StringEqualsIfExists", Optional<String>.none, PolicyDecision.allow),
        ("StringEqualsIfExists", "bucket-owner-full-control", .allow),
        ("StringEqualsIfExists", "public-read", .notApplicable),
        ("StringEquals", nil, .notApplicable),
        ("StringEquals", "bucket-owner-full-control", .allow),
        ("StringNotEqualsIfExists", nil, .allow),
        ("StringNotEquals", nil, .notApplicable),  // a missing key makes even negated operators false
        ("StringNotEquals", "public-read", .allow),
        ("StringNotEquals", "bucket-owner-full-control", .notApplicable),
    ])
    func ifExists(_ op: String, _ acl: String?, _ expected: PolicyDecision) throws {
        let context = acl.map { ["s3:x-amz-acl": [$0]] } ?? [:]
        #expect(try readDecision(#"{"\#(op)":{"s3:x-amz-acl":"bucket-owner-full-control"}}"#, context) == expected)
    }

    @Test func null() throws {
        let p = try policy(
            #"""
            [{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bucket/*",
              "Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}},
             {"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bucket/*"}]
            """#)
        #expect(decide(p, "s3:PutObject", object("a")) == .deny)
        #expect(decide(p, "s3:PutObject", object("a"), ["s3:x-amz-server-side-encryption": []]) == .deny)
        #expect(decide(p, "s3:PutObject", object("a"), ["s3:x-amz-server-side-encryption": ["AES256"]]) == .allow)

        let present = #"{"Null":{"s3:x-amz-server-side-encryption":false}}"#
        #expect(try readDecision(present, ["s3:x-amz-server-side-encryption": ["AES256"]]) == .allow)
        #expect(try readDecision(present, [:]) == .notApplicable)
    }

    @Test(arguments: [
        (Optional(["project"]), PolicyDecision.allow), (["project", "owner"], .allow), (["owner", "owner"], .allow),
        (["project", "secret"], .notApplicable), (["Project"], .notApplicable),
        (nil, .allow),  // ForAllValues over a missing key is vacuously true
    ])
    func forAllValues(_ tagKeys: [String]?, _ expected: PolicyDecision) throws {
        let context = tagKeys.map { ["aws:TagKeys": $0] } ?? [:]
        #expect(
            try readDecision(#"{"ForAllValues:StringEquals":{"aws:TagKeys":["project","owner"]}}"#, context) == expected
        )
    }

    @Test(arguments: [
        (Optional(["a", "secret"]), PolicyDecision.deny), (["secret"], .deny), (["a", "b"], .allow),
        (nil, .allow),  // ForAnyValue over a missing key is false
    ])
    func forAnyValue(_ tagKeys: [String]?, _ expected: PolicyDecision) throws {
        let p = try policy(
            #"""
            [{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bucket/*",
              "Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":["secr?t","classified*"]}}},
             {"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bucket/*"}]
            """#)
        let context = tagKeys.map { ["aws:TagKeys": $0] } ?? [:]
        #expect(decide(p, "s3:PutObject", object("a"), context) == expected)
    }

    @Test func setOperatorsWithNegation() throws {
        let anyNot = #"{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a","b"]}}"#
        #expect(try readDecision(anyNot, ["aws:TagKeys": ["a", "c"]]) == .allow)
        #expect(try readDecision(anyNot, ["aws:TagKeys": ["a", "b"]]) == .notApplicable)
        let allNot = #"{"ForAllValues:StringNotEquals":{"aws:TagKeys":["a","b"]}}"#
        #expect(try readDecision(allNot, ["aws:TagKeys": ["c", "d"]]) == .allow)
        #expect(try readDecision(allNot, ["aws:TagKeys": ["c", "a"]]) == .notApplicable)
    }

    @Test(arguments: [
        ("2029-12-31T23:59:59Z", PolicyDecision.allow),
        ("2029-12-31T23:59:59.999Z", .allow),
        ("2030-01-01T00:00:00Z", .notApplicable),
        ("2030-01-01T00:00:00.001Z", .notApplicable),
        ("2030-01-01T01:00:00+02:00", .allow),  // 2029-12-31T23:00:00Z
        ("2029-12-31T23:00:00-01:00", .notApplicable),  // 2030-01-01T00:00:00Z
        ("2029-06-01", .allow),
        ("1893455999", .allow),  // epoch seconds, 2029-12-31T23:59:59Z
        ("1893456000", .notApplicable),
        ("yesterday", .notApplicable),
        ("2029-02-30T00:00:00Z", .notApplicable),  // not a date
    ])
    func dateLessThanCurrentTime(_ now: String, _ expected: PolicyDecision) throws {
        let condition = #"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#
        #expect(try readDecision(condition, ["aws:CurrentTime": [now]]) == expected)
    }

    @Test func dateOperators() throws {
        let window =
            #"{"DateGreaterThanEquals":{"aws:EpochTime":"2024-02-29T12:00:00Z"},"DateLessThanEquals":{"aws:EpochTime":1709251200}}"#
        #expect(try readDecision(window, ["aws:EpochTime": ["1709208000"]]) == .allow)  // 2024-02-29T12:00:00Z
        #expect(try readDecision(window, ["aws:EpochTime": ["1709251200"]]) == .allow)  // 2024-03-01T00:00:00Z
        #expect(try readDecision(window, ["aws:EpochTime": ["1709207999"]]) == .notApplicable)
        #expect(try readDecision(window, ["aws:EpochTime": ["1709251201"]]) == .notApplicable)
        let equals = #"{"DateEquals":{"aws:CurrentTime":"2024-02-29T12:00:00+0100"}}"#
        #expect(try readDecision(equals, ["aws:CurrentTime": ["2024-02-29T11:00:00.000Z"]]) == .allow)
        #expect(try readDecision(equals, ["aws:CurrentTime": ["2024-02-29T12:00:00Z"]]) == .notApplicable)
        let notEquals = #"{"DateNotEquals":{"aws:CurrentTime":"2024-02-29T12:00:00Z"}}"#
        #expect(try readDecision(notEquals, ["aws:CurrentTime": ["2024-02-29T12:00:01Z"]]) == .allow)
        #expect(try readDecision(notEquals, ["aws:CurrentTime": ["2024-02-29T12:00:00Z"]]) == .notApplicable)
    }

    @Test(arguments: [
        (Optional("5"), PolicyDecision.allow), ("10", .allow), ("10.0", .allow), ("11", .notApplicable),
        ("0", .allow), ("abc", .notApplicable), (nil, .notApplicable),
    ])
    func numericMaxKeys(_ maxKeys: String?, _ expected: PolicyDecision) throws {
        let p = try policy(
            #"{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::bucket","Condition":{"NumericLessThanEquals":{"s3:max-keys":10}}}"#
        )
        let context = maxKeys.map { ["s3:max-keys": [$0]] } ?? [:]
        #expect(decide(p, "s3:ListBucket", bucketARN, context) == expected)
    }

    @Test(arguments: [
        ("NumericEquals", "10", PolicyDecision.allow), ("NumericEquals", "1e1", .allow),
        ("NumericEquals", "11", .notApplicable), ("NumericNotEquals", "11", .allow),
        ("NumericNotEquals", "10", .notApplicable), ("NumericLessThan", "9.5", .allow),
        ("NumericLessThan", "10", .notApplicable), ("NumericGreaterThan", "10.5", .allow),
        ("NumericGreaterThan", "10", .notApplicable), ("NumericGreaterThanEquals", "10", .allow),
        ("NumericGreaterThanEquals", "-3", .notApplicable),
    ])
    func numericOperators(_ op: String, _ value: String, _ expected: PolicyDecision) throws {
        #expect(try readDecision(#"{"\#(op)":{"s3:max-keys":"10"}}"#, ["s3:max-keys": [value]]) == expected)
    }

    @Test(arguments: [
        ("2001:db8:1234::1", PolicyDecision.allow), ("2001:0db8:0000:0000:0000:0000:0000:0001", .allow),
        ("2001:DB8::abcd", .allow), ("2001:db9::1", .notApplicable), ("::1", .notApplicable),
        ("fe80::1%eth0", .notApplicable), ("10.1.2.3", .allow), ("11.0.0.1", .notApplicable),
        ("2001:db8::1::2", .notApplicable), ("not-an-ip", .notApplicable),
        ("2001:db8::192.0.2.1", .allow), ("64:ff9b::1", .allow), ("64:ff9b::1:0:0", .notApplicable),
    ])
    func ipv6Cidr(_ ip: String, _ expected: PolicyDecision) throws {
        let condition = #"{"IpAddress":{"aws:SourceIp":["2001:db8::/32","10.0.0.0/8","64:ff9b::/96"]}}"#
        #expect(try readDecision(condition, ["aws:SourceIp": [ip]]) == expected)
    }

    @Test(arguments: [
        ("198.51.100.0", PolicyDecision.allow), ("198.51.103.255", .allow), ("198.51.104.0", .notApplicable),
        ("198.51.99.255", .notApplicable), ("2001:db8:8000::1", .allow), ("2001:db8:ffff::1", .allow),
        ("2001:db8:7fff::1", .notApplicable), ("203.0.113.9", .allow), ("203.0.113.10", .notApplicable),
    ])
    func unalignedCidrPrefixes(_ ip: String, _ expected: PolicyDecision) throws {
        let condition = #"{"IpAddress":{"aws:SourceIp":["198.51.100.0/22","2001:db8:8000::/33","203.0.113.8/31"]}}"#
        #expect(try readDecision(condition, ["aws:SourceIp": [ip]]) == expected)
    }

    @Test func multipleKeysAndOperatorsAreANDedValuesORed() throws {
        let condition = #"""
            {"StringEquals":{"s3:x-amz-acl":["private","bucket-owner-full-control"],"aws:username":"alice"},
             "Bool":{"aws:SecureTransport":true}}
            """#
        let good = ["s3:x-amz-acl": ["private"], "aws:username": ["alice"], "aws:SecureTransport": ["true"]]
        #expect(try readDecision(condition, good) == .allow)
        var other = good
        other["s3:x-amz-acl"] = ["bucket-owner-full-control"]
        #expect(try readDecision(condition, other) == .allow)
        for (key, value) in [
            ("s3:x-amz-acl", "public-read"), ("aws:username", "bob"), ("aws:SecureTransport", "false"),
        ] {
            var bad = good
            bad[key] = [value]
            #expect(try readDecision(condition, bad) == .notApplicable, "\(key)=\(value)")
            bad[key] = nil
            #expect(try readDecision(condition, bad) == .notApplicable, "\(key) missing")
        }
    }

    @Test func negatedOperatorsNeedNoMatchingValue() throws {
        let p = try policy(
            #"""
            [{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bucket/*",
              "Condition":{"StringNotEquals":{"s3:x-amz-acl":["private","bucket-owner-full-control"]}}},
             {"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::bucket/*"}]
            """#)
        #expect(decide(p, "s3:PutObject", object("a"), ["s3:x-amz-acl": ["public-read"]]) == .deny)
        #expect(decide(p, "s3:PutObject", object("a"), ["s3:x-amz-acl": ["private"]]) == .allow)
        #expect(decide(p, "s3:PutObject", object("a"), ["s3:x-amz-acl": ["bucket-owner-full-control"]]) == .allow)
        #expect(decide(p, "s3:PutObject", object("a")) == .allow)
    }

    @Test func multiValuedKeysWithoutSetOperator() throws {
        // Without ForAnyValue/ForAllValues a positive operator needs some context value to match; a negated one
        // needs every context value to match none of the policy values.
        let equals = #"{"StringEquals":{"aws:TagKeys":"a"}}"#
        #expect(try readDecision(equals, ["aws:TagKeys": ["b", "a"]]) == .allow)
        #expect(try readDecision(equals, ["aws:TagKeys": ["b", "c"]]) == .notApplicable)
        let notEquals = #"{"StringNotEquals":{"aws:TagKeys":"a"}}"#
        #expect(try readDecision(notEquals, ["aws:TagKeys": ["b", "c"]]) == .allow)
        #expect(try readDecision(notEquals, ["aws:TagKeys": ["b", "a"]]) == .notApplicable)
    }

    @Test func stringNotLike() throws {
        let condition = #"{"StringNotLike":{"s3:prefix":["tmp/*","*.bak"]}}"#
        #expect(try readDecision(condition, ["s3:prefix": ["docs/a"]]) == .allow)
        #expect(try readDecision(condition, ["s3:prefix": ["tmp/a"]]) == .notApplicable)
        #expect(try readDecision(condition, ["s3:prefix": ["docs/a.bak"]]) == .notApplicable)
    }

    @Test func arnOperators() throws {
        let like = #"{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:123456789012:topic-*"}}"#
        #expect(try readDecision(like, ["aws:SourceArn": ["arn:aws:sns:eu-west-1:123456789012:topic-a"]]) == .allow)
        #expect(
            try readDecision(like, ["aws:SourceArn": ["arn:aws:sns:eu-west-1:999999999999:topic-a"]]) == .notApplicable)
        // "*" in the region component does not swallow the account component.
        #expect(
            try readDecision(like, ["aws:SourceArn": ["arn:aws:sns:eu:west:123456789012:topic-a"]]) == .notApplicable)
        #expect(try readDecision(like, ["aws:SourceArn": ["not-an-arn"]]) == .notApplicable)
        let equals = #"{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::logs"}}"#
        #expect(try readDecision(equals, ["aws:SourceArn": ["arn:aws:s3:::logs"]]) == .allow)
        #expect(try readDecision(equals, ["aws:SourceArn": ["arn:aws:s3:::Logs"]]) == .notApplicable)
        let notLike = #"{"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::logs*"}}"#
        #expect(try readDecision(notLike, ["aws:SourceArn": ["arn:aws:s3:::other"]]) == .allow)
        #expect(try readDecision(notLike, ["aws:SourceArn": ["arn:aws:s3:::logs-2"]]) == .notApplicable)
    }

    @Test func binaryEquals() throws {
        let condition = #"{"BinaryEquals":{"s3:x-amz-meta-blob":"QmluYXJ5VmFsdWU="}}"#
        #expect(try readDecision(condition, ["s3:x-amz-meta-blob": ["QmluYXJ5VmFsdWU="]]) == .allow)
        #expect(try readDecision(condition, ["s3:x-amz-meta-blob": ["T3RoZXI="]]) == .notApplicable)
    }

    @Test func variablesInConditionValues() throws {
        let condition = #"{"StringEquals":{"s3:ExistingObjectTag/owner":"${aws:userid}"}}"#
        #expect(
            try readDecision(condition, ["aws:userid": ["AID1"], "s3:ExistingObjectTag/owner": ["AID1"]]) == .allow)
        #expect(
            try readDecision(condition, ["aws:userid": ["AID2"], "s3:ExistingObjectTag/owner": ["AID1"]])
                == .notApplicable)
        // An unresolvable variable makes the condition false.
        #expect(try readDecision(condition, ["s3:ExistingObjectTag/owner": ["${aws:userid}"]]) == .notApplicable)
        let like = #"{"StringLike":{"s3:prefix":"${aws:username}/${*}"}}"#
        #expect(try readDecision(like, ["aws:username": ["alice"], "s3:prefix": ["alice/*"]]) == .allow)
        #expect(try readDecision(like, ["aws:username": ["alice"], "s3:prefix": ["alice/x"]]) == .notApplicable)
    }
}

// MARK: - Parsing and validation

@Suite struct PolicyParsingTests {
    private static func statement(_ fields: String) -> String {
        #"{"Version":"2012-10-17","Statement":[{\#(fields)}]}"#
    }

    private static let read =
        #""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*""#

    static let malformed: [(String, String)] = [
        ("not json", "Policies must be valid JSON and the first byte must be '{'"),
        ("[]", "Policies must be valid JSON and the first byte must be '{'"),
        (#"{"Statement":["#, "Policies must be valid JSON and the first byte must be '{'"),
        ("", "Policies must be valid JSON and the first byte must be '{'"),
        (#"{"Version":"2012-10-17"}"#, "Missing required field Statement"),
        (#"{"Version":"2020-01-01","Statement":[{\#(read)}]}"#, "The policy version is not valid"),
        (#"{"Version":20121017,"Statement":[{\#(read)}]}"#, "The policy version is not valid"),
        (#"{"Version":"2012-10-17","Statement":[]}"#, "Could not parse the policy: Statement is empty!"),
        (#"{"Version":"2012-10-17","Statemant":[{\#(read)}]}"#, "Unknown field Statemant"),
        (statement(#"\#(read),"Effects":"Allow""#), "Unknown field Effects"),
        (
            statement(#""Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*""#),
            "Missing required field Effect"
        ),
        (
            statement(#""Effect":"Permit","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*""#),
            "Invalid effect: Permit"
        ),
        (
            statement(#""Effect":"allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*""#),
            "Invalid effect: allow"
        ),
        (
            statement(#""Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*""#),
            "Missing required field Principal"
        ),
        (
            statement(
                #""Effect":"Allow","Principal":"alice","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*""#),
            "Invalid principal in policy"
        ),
        (
            statement(
                #""Effect":"Allow","Principal":{"AWS":"arn:aws:iam::acme:user/*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*""#
            ),
            "Invalid principal in policy"
        ),
        (
            statement(
                #""Effect":"Allow","Principal":{"Human":"alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*""#
            ),
            "Invalid principal in policy"
        ),
        (
            statement(#""Effect":"Allow","Principal":{},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*""#),
            "Invalid principal in policy"
        ),
        (
            statement(
                #""Effect":"Allow","Principal":"*","NotPrincipal":{"AWS":"x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*""#
            ),
            "Statement cannot contain both Principal and NotPrincipal"
        ),
        (
            statement(#""Effect":"Allow","Principal":"*","Resource":"arn:aws:s3:::bucket/*""#),
            "Missing required field Action"
        ),
        (
            statement(#""Effect":"Allow","Principal":"*","Action":"s3:GetObjekt","Resource":"arn:aws:s3:::bucket/*""#),
            "Policy has invalid action"
        ),
        (
            statement(
                #""Effect":"Allow","Principal":"*","Action":"ec2:RunInstances","Resource":"arn:aws:s3:::bucket/*""#),
            "Policy has invalid action"
        ),
        (
            statement(
                #""Effect":"Allow","Principal":"*","Action":"s3:Frobnicate*","Resource":"arn:aws:s3:::bucket/*""#),
            "Policy has invalid action"
        ),
        (
            statement(#""Effect":"Allow","Principal":"*","Action":[],"Resource":"arn:aws:s3:::bucket/*""#),
            "Policy has invalid action"
        ),
        (statement(#""Effect":"Allow","Principal":"*","Action":"s3:GetObject""#), "Missing required field Resource"),
        (
            statement(#""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*""#),
            "Policy has invalid resource"
        ),
        (
            statement(
                #""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":["arn:aws:s3:::bucket/*","arn:aws:s3:::bucket2/*"]"#
            ),
            "Policy has invalid resource"
        ),
        (
            statement(#""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:sqs:::bucket/*""#),
            "Policy has invalid resource"
        ),
        (
            statement(#""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"bucket/*""#),
            "Policy has invalid resource"
        ),
        (
            statement(#"\#(read),"Condition":{"StringEqualz":{"s3:prefix":"a"}}"#),
            "Invalid Condition operator: StringEqualz"
        ),
        (
            statement(#"\#(read),"Condition":{"NullIfExists":{"s3:prefix":"true"}}"#),
            "Invalid Condition operator: NullIfExists"
        ),
        (
            statement(#"\#(read),"Condition":{"ForSomeValues:StringEquals":{"s3:prefix":"a"}}"#),
            "Invalid Condition operator: ForSomeValues:StringEquals"
        ),
        (
            statement(#"\#(read),"Condition":{"IpAddress":{"aws:SourceIp":"300.1.2.3/8"}}"#),
            "Invalid Condition value for IpAddress aws:SourceIp: 300.1.2.3/8"
        ),
        (
            statement(#"\#(read),"Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}"#),
            "Invalid Condition value for NumericLessThan s3:max-keys: ten"
        ),
        (
            #"{"Version":"2012-10-17","Statement":[{"Sid":"A",\#(read)},{"Sid":"A",\#(read)}]}"#,
            "Statement IDs (SID) in a single policy must be unique"
        ),
        (
            statement(#""Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::bucket/*""#),
            "Action does not apply to any resource(s) in statement"
        ),
        (
            statement(
                #""Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::bucket""#
            ),
            "Action does not apply to any resource(s) in statement"
        ),
    ]

    @Test(arguments: malformed)
    func rejects(_ json: String, _ message: String) {
        #expect(parseError(json) == message)
    }

    static let acceptable: [String] = [
        statement(#""Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::bucket""#),
        statement(#""Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::bucket""#),
        statement(#""Effect":"Allow","Principal":"*","Action":"*","Resource":"*""#),
        statement(
            #""Effect":"Allow","Principal":"*","Action":["s3:ListBucket","s3:GetObject"],"Resource":"arn:aws:s3:::bucket""#
        ),
        statement(#""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*""#),
        statement(#""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket*""#),
        statement(#""Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b?ck*""#),
        statement(#""Effect":"Allow","Principal":"*","Action":"s3:List*","Resource":"arn:aws:s3:::bucket/*""#),
        statement(#""Effect":"Allow","Principal":"*","Action":"s3:CreateBucket","Resource":"arn:aws:s3:::bucket/*""#),
        statement(#""Effect":"Deny","Principal":"*","NotAction":"s3:GetObject","Resource":"arn:aws:s3:::bucket""#),
        statement(
            #""Effect":"Allow","Principal":{"CanonicalUser":["c1","c2"],"Service":"s3.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*""#
        ),
        statement(
            #""Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*","Condition":{"ForAllValues:StringLikeIfExists":{"aws:TagKeys":["a*"]},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}"#
        ),
        #"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}}"#,
        #"{"Version":"2008-10-17","Id":"P1","Statement":[{"Sid":"","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}]}"#,
        "\n  "
            + statement(
                #""Sid":"1","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*""#
            ),
    ]

    @Test(arguments: acceptable)
    func accepts(_ json: String) {
        #expect(parseError(json) == nil)
    }

    @Test func rejectsOversizedPolicy() throws {
        let padding = String(repeating: " ", count: BucketPolicy.maximumSize)
        let json = Self.statement(Self.read) + padding
        #expect(throws: PolicyError("Policies must be under 20 KB")) { try parse(json) }
        // Just under the limit is fine.
        let fits = Self.statement(Self.read)
        _ = try parse(fits + String(repeating: " ", count: BucketPolicy.maximumSize - fits.utf8.count))
    }

    @Test func preservesTextAndMetadata() throws {
        let json = "{ \"Id\": \"MyPolicy\",\n  \"Version\" : \"2012-10-17\",\n  \"Statement\": [{\(Self.read)}]\n}\n"
        let p = try parse(json)
        #expect(p.text == json)
        #expect(p.id == "MyPolicy")
        #expect(p.version == "2012-10-17")
        #expect(p.statementCount == 1)
        #expect(try parse(json) == p)
        #expect(try parse(json.replacingOccurrences(of: "MyPolicy", with: "Other")) != p)
    }

    @Test func errorDescriptionIsItsMessage() {
        let error = PolicyError("Policy has invalid action")
        #expect(error.description == "Policy has invalid action")
        #expect("\(error)" == "Policy has invalid action")
    }

    @Test func knownActions() {
        #expect(BucketPolicy.isKnownAction("s3:GetObject"))
        #expect(BucketPolicy.isKnownAction("S3:listbucket"))
        #expect(BucketPolicy.isKnownAction("s3:PutBucketPolicy"))
        #expect(!BucketPolicy.isKnownAction("s3:Get*"))
        #expect(!BucketPolicy.isKnownAction("GetObject"))
        #expect(!BucketPolicy.isKnownAction("s3:ListObjects"))
    }
}

// MARK: - IsPublic

@Suite struct PolicyStatusTests {
    private static func allowAll(_ principal: String = #""*""#, condition: String? = nil) -> String {
        let conditionField = condition.map { #","Condition":\#($0)"# } ?? ""
        return
            #"{"Effect":"Allow","Principal":\#(principal),"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"\#(conditionField)}"#
    }

    static let cases: [(String, Bool)] = [
        (allowAll(), true),
        (allowAll(#"{"AWS":"*"}"#), true),
        (allowAll(#"{"AWS":["arn:aws:iam::acme:user/alice","*"]}"#), true),
        (allowAll(#"{"AWS":"arn:aws:iam::acme:user/alice"}"#), false),
        (allowAll(#"{"CanonicalUser":"abc"}"#), false),
        (allowAll(condition: #"{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"#), false),
        (allowAll(condition: #"{"IpAddress":{"aws:SourceIp":["192.0.2.0/24","0.0.0.0/0"]}}"#), true),
        (allowAll(condition: #"{"IpAddress":{"aws:SourceIp":"::/0"}}"#), true),
        (allowAll(condition: #"{"NotIpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"#), true),
        (allowAll(condition: #"{"StringEquals":{"aws:SourceAccount":"acme"}}"#), false),
        (allowAll(condition: #"{"StringEquals":{"AWS:PrincipalOrgID":"o-123"}}"#), false),
        (allowAll(condition: #"{"ArnEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:acme:trail/t"}}"#), false),
        (allowAll(condition: #"{"StringLike":{"aws:SourceArn":"arn:aws:s3:::*"}}"#), true),
        (allowAll(condition: #"{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}"#), false),
        (allowAll(condition: #"{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1a2b3c4d"}}"#), true),
        (allowAll(condition: #"{"StringNotEquals":{"aws:SourceVpc":"vpc-1"}}"#), true),
        (allowAll(condition: #"{"ForAllValues:StringEquals":{"aws:SourceVpc":"vpc-1"}}"#), true),
        (allowAll(condition: #"{"StringEquals":{"aws:username":"alice"}}"#), false),
        (allowAll(condition: #"{"StringEquals":{"aws:userid":"${aws:userid}"}}"#), true),
        (allowAll(condition: #"{"Bool":{"aws:SecureTransport":"true"}}"#), true),
        (allowAll(condition: #"{"StringEquals":{"s3:x-amz-acl":"private"}}"#), true),
        (
            allowAll(condition: #"{"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#),
            false
        ),
        (#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::bucket/*"}"#, false),
        (
            #"{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::acme:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}"#,
            true
        ),
        (
            #"{"Effect":"Allow","NotPrincipal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}"#,
            false
        ),
        ("[" + allowAll(condition: #"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#) + "," + allowAll() + "]", true),
        (
            "[" + allowAll(#"{"AWS":"acme"}"#) + ","
                + allowAll(condition: #"{"IpAddress":{"aws:SourceIp":"10.1.2.3"}}"#) + "]", false
        ),
    ]

    @Test(arguments: cases)
    func isPublic(_ statements: String, _ expected: Bool) throws {
        #expect(try policy(statements).isPublic == expected)
    }
}
