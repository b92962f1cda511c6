import Foundation
import MaxIOIAM
import Testing

@Suite struct AuthorizeTests {
    static let tenantA = "ta"
    static let tenantB = "tb"

    static func principal(_ id: String, tenant: String?, role: Role, groups: [String] = []) -> Principal {
        Principal(
            userID: id, userName: id, displayName: id, tenantID: tenant, tenantName: tenant.map { "name-" + $0 },
            role: role, groups: groups)
    }

    static let admin = principal("admin", tenant: nil, role: .admin)
    static let owner = principal("owner", tenant: tenantA, role: .user)
    static let peer = principal("peer", tenant: tenantA, role: .user, groups: ["team"])
    static let tadmin = principal("tadmin", tenant: tenantA, role: .tenantAdmin)
    static let reader = principal("reader", tenant: tenantA, role: .readonly)
    static let outsider = principal("outsider", tenant: tenantB, role: .user)
    static let outsiderAdmin = principal("oadmin", tenant: tenantB, role: .tenantAdmin)

    static func bucket(grants: [BucketGrant] = [], policy: String? = nil) throws -> BucketAccess {
        BucketAccess(
            name: "b", tenantID: tenantA, owner: "owner",
            policy: try policy.map { try BucketPolicy.parse($0, bucket: "b") }, grants: grants)
    }

    static func allowed(_ p: Principal?, _ action: String, _ b: BucketAccess, key: String? = "k") -> Bool {
        Authorizer.authorize(
            principal: p, action: action, bucket: b, resource: "arn:aws:s3:::b" + (key.map { "/" + $0 } ?? ""),
            context: [:]) == .allow
    }

    @Test(arguments: [
        // (who, action, allowed without grants)
        ("admin", "s3:DeleteBucket", true),
        ("owner", "s3:PutObject", true),
        ("owner", "s3:DeleteBucket", true),
        ("owner", "s3:PutBucketPolicy", true),
        ("tadmin", "s3:PutObject", true),
        ("tadmin", "s3:PutLifecycleConfiguration", true),
        ("peer", "s3:GetObject", false),
        ("peer", "s3:ListBucket", false),
        ("reader", "s3:GetObject", true),
        ("reader", "s3:ListBucket", true),
        ("reader", "s3:PutObject", false),
        ("reader", "s3:DeleteObject", false),
        ("reader", "s3:GetBucketPolicy", false),
        ("outsider", "s3:GetObject", false),
        ("oadmin", "s3:GetObject", false),
        ("anonymous", "s3:GetObject", false),
    ])
    func identityRights(who: String, action: String, expected: Bool) throws {
        let p: Principal? =
            switch who {
            case "admin": Self.admin
            case "owner": Self.owner
            case "tadmin": Self.tadmin
            case "peer": Self.peer
            case "reader": Self.reader
            case "outsider": Self.outsider
            case "oadmin": Self.outsiderAdmin
            default: nil
            }
        #expect(Self.allowed(p, action, try Self.bucket()) == expected)
    }

    @Test(arguments: [
        (AccessLevel.read, "s3:GetObject", true), (.read, "s3:ListBucket", true), (.read, "s3:PutObject", false),
        (.read, "s3:GetBucketPolicy", false), (.write, "s3:PutObject", true), (.write, "s3:DeleteObject", true),
        (.write, "s3:AbortMultipartUpload", true), (.write, "s3:PutBucketVersioning", false),
        (.write, "s3:DeleteBucket", false), (.admin, "s3:PutBucketVersioning", true), (.admin, "s3:DeleteBucket", true),
        (.admin, "s3:BypassGovernanceRetention", true), (.write, "s3:BypassGovernanceRetention", false),
    ])
    func grantLevels(level: AccessLevel, action: String, expected: Bool) throws {
        let b = try Self.bucket(grants: [BucketGrant(bucket: "b", subject: .user("outsider"), level: level)])
        #expect(Self.allowed(Self.outsider, action, b) == expected)
        // The grant is the outsider's, not its tenant-mates'.
        #expect(!Self.allowed(Self.outsiderAdmin, action, b))
    }

    @Test func groupAndTenantGrants() throws {
        let byGroup = try Self.bucket(grants: [BucketGrant(bucket: "b", subject: .group("team"), level: .write)])
        #expect(Self.allowed(Self.peer, "s3:PutObject", byGroup))
        #expect(!Self.allowed(Self.outsider, "s3:PutObject", byGroup))
        let byTenant = try Self.bucket(grants: [BucketGrant(bucket: "b", subject: .tenant(Self.tenantB), level: .read)])
        #expect(Self.allowed(Self.outsider, "s3:GetObject", byTenant))
        #expect(Self.allowed(Self.outsiderAdmin, "s3:ListBucket", byTenant))
        #expect(!Self.allowed(Self.outsider, "s3:PutObject", byTenant))
    }

    @Test func readonlyNeverWritesWhateverItIsGranted() throws {
        let b = try Self.bucket(grants: [BucketGrant(bucket: "b", subject: .user("reader"), level: .admin)])
        #expect(Self.allowed(Self.reader, "s3:GetObject", b))
        #expect(!Self.allowed(Self.reader, "s3:PutObject", b))
    }

    @Test func expiredGrantsGrantNothing() throws {
        let past = BucketGrant(
            bucket: "b", subject: .user("outsider"), level: .read, expiresAt: Date(timeIntervalSinceNow: -1))
        let future = BucketGrant(
            bucket: "b", subject: .user("outsider"), level: .read, expiresAt: Date(timeIntervalSinceNow: 3600))
        #expect(!Self.allowed(Self.outsider, "s3:GetObject", try Self.bucket(grants: [past])))
        #expect(Self.allowed(Self.outsider, "s3:GetObject", try Self.bucket(grants: [future])))
    }

    static let publicRead = """
        {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/public/*"}]}
        """

    @Test func policyAllowsAnonymousReadsOfAPrefix() throws {
        let b = try Self.bucket(policy: Self.publicRead)
        #expect(Self.allowed(nil, "s3:GetObject", b, key: "public/x"))
        #expect(!Self.allowed(nil, "s3:GetObject", b, key: "private/x"))
        #expect(!Self.allowed(nil, "s3:PutObject", b, key: "public/x"))
        #expect(Self.allowed(Self.outsider, "s3:GetObject", b, key: "public/x"))
    }

    static let denyDeletes = """
        {"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":["s3:DeleteObject","s3:PutBucketPolicy"],"Resource":["arn:aws:s3:::b/*","arn:aws:s3:::b"]}]}
        """

    @Test func explicitDenyBeatsEveryAllow() throws {
        let b = try Self.bucket(
            grants: [BucketGrant(bucket: "b", subject: .user("peer"), level: .admin)], policy: Self.denyDeletes)
        for p in [Self.owner, Self.tadmin, Self.peer, Self.admin] {
            #expect(!Self.allowed(p, "s3:DeleteObject", b), "\(p.userName)")
            #expect(Self.allowed(p, "s3:PutObject", b), "\(p.userName)")
        }
        let d = Authorizer.authorize(
            principal: Self.owner, action: "s3:DeleteObject", bucket: b, resource: "arn:aws:s3:::b/k", context: [:])
        #expect(d == .deny(explicit: true))
    }

    @Test func administratorsKeepThePolicyOperations() throws {
        let b = try Self.bucket(policy: Self.denyDeletes)
        #expect(Self.allowed(Self.admin, "s3:PutBucketPolicy", b, key: nil))
        #expect(Self.allowed(Self.tadmin, "s3:PutBucketPolicy", b, key: nil))
        #expect(!Self.allowed(Self.owner, "s3:PutBucketPolicy", b, key: nil))
        #expect(!Self.allowed(Self.outsiderAdmin, "s3:PutBucketPolicy", b, key: nil))
    }

    @Test func policyNamesPrincipalsByTenantAndUser() throws {
        let policy = """
            {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::name-tb:user/outsider"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}
            """
        let b = try Self.bucket(policy: policy)
        #expect(Self.allowed(Self.outsider, "s3:GetObject", b))
        #expect(!Self.allowed(Self.outsiderAdmin, "s3:GetObject", b))
        #expect(!Self.allowed(nil, "s3:GetObject", b))
        let account = """
            {"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::name-tb:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}]}
            """
        let whole = try Self.bucket(policy: account)
        #expect(Self.allowed(Self.outsider, "s3:ListBucket", whole, key: nil))
        #expect(Self.allowed(Self.outsiderAdmin, "s3:ListBucket", whole, key: nil))
    }

    @Test func serviceLevelActions() {
        #expect(Authorizer.identityAllows(Self.owner, level: .admin, action: "s3:CreateBucket", bucket: nil))
        #expect(!Authorizer.identityAllows(Self.reader, level: .admin, action: "s3:CreateBucket", bucket: nil))
    }

    @Test func passwordPolicyAndHashes() throws {
        #expect(PasswordHasher.policyViolation("short1A") != nil)
        #expect(PasswordHasher.policyViolation("alllowercase") != nil)
        #expect(PasswordHasher.policyViolation("lower-and-1") == nil)
        #expect(PasswordHasher.policyViolation(PasswordHasher.generate()) == nil)
        let h = try PasswordHasher.hash("Correct-Horse-1")
        #expect(h.hasPrefix("scrypt$32768$8$1$"))
        #expect(PasswordHasher.verify("Correct-Horse-1", hash: h))
        #expect(!PasswordHasher.verify("Correct-Horse-2", hash: h))
        #expect(!PasswordHasher.verify("Correct-Horse-1", hash: "scrypt$1$1$1$x$y"))
    }

    @Test func sealedSecretsAreBoundToTheirKey() throws {
        let key = try MasterKey(bytes: MasterKey.generateBytes())
        let sealed = try key.seal("secret", context: "AKIA1")
        #expect(try key.open(sealed, context: "AKIA1") == "secret")
        #expect(throws: (any Error).self) { try key.open(sealed, context: "AKIA2") }
        let other = try MasterKey(bytes: MasterKey.generateBytes())
        #expect(throws: (any Error).self) { try other.open(sealed, context: "AKIA1") }
        #expect(!sealed.contains(Array("secret".utf8)))
    }
}
