import MaxIOIAM
import Testing

@Suite struct ACLTests {
    static let owner = Principal(
        userID: "owner", userName: "owner", displayName: "owner", tenantID: "t", tenantName: "t", role: .user)
    static let other = Principal(
        userID: "other", userName: "other", displayName: "other", tenantID: "u", tenantName: "u", role: .user)

    @Test(arguments: [
        ("private", [ACLGrant(.user("owner"), .fullControl)]),
        ("public-read", [ACLGrant(.user("owner"), .fullControl), ACLGrant(.group(ACLGrantee.allUsers), .read)]),
        (
            "public-read-write",
            [
                ACLGrant(.user("owner"), .fullControl), ACLGrant(.group(ACLGrantee.allUsers), .read),
                ACLGrant(.group(ACLGrantee.allUsers), .write),
            ]
        ),
        (
            "authenticated-read",
            [ACLGrant(.user("owner"), .fullControl), ACLGrant(.group(ACLGrantee.authenticatedUsers), .read)]
        ),
    ])
    func cannedBucketACLs(name: String, grants: [ACLGrant]) throws {
        let acl = try AccessControlList.canned(name, owner: "owner", bucketOwner: "owner", forObject: false)
        #expect(acl.grants == grants)
        #expect(acl.owner == "owner")
    }

    @Test func bucketOwnerCannedACLsNameTheBucketOwner() throws {
        let read = try AccessControlList.canned("bucket-owner-read", owner: "w", bucketOwner: "b", forObject: true)
        #expect(read.grants.contains(ACLGrant(.user("b"), .read)))
        let full = try AccessControlList.canned(
            "bucket-owner-full-control", owner: "w", bucketOwner: "b", forObject: true)
        #expect(full.grants.contains(ACLGrant(.user("b"), .fullControl)))
        #expect(full.onlyOwners(bucketOwner: "b"))
        #expect(throws: ACLError.invalidCanned("bucket-owner-read")) {
            try AccessControlList.canned("bucket-owner-read", owner: "w", bucketOwner: "b", forObject: false)
        }
        #expect(throws: ACLError.invalidCanned("nope")) {
            try AccessControlList.canned("nope", owner: "w", bucketOwner: "b", forObject: true)
        }
    }

    @Test func grantHeaders() throws {
        let acl = try AccessControlList.fromGrantHeaders(
            [.read: "id=\"abc\", uri=\"\(ACLGrantee.allUsers)\"", .writeACP: "id=def"], owner: "owner")
        #expect(
            Set(acl.grants) == [
                ACLGrant(.user("abc"), .read), ACLGrant(.group(ACLGrantee.allUsers), .read),
                ACLGrant(.user("def"), .writeACP),
            ])
        #expect(acl.isPublic)
        #expect(throws: ACLError.unresolvableEmail("a@b.c")) {
            try AccessControlList.fromGrantHeaders([.read: "emailAddress=\"a@b.c\""], owner: "o")
        }
        #expect(throws: ACLError.self) { try AccessControlList.fromGrantHeaders([.read: "bogus"], owner: "o") }
    }

    @Test func evaluation() {
        let acl = AccessControlList(
            owner: "owner",
            grants: [ACLGrant(.user("other"), .read), ACLGrant(.group(ACLGrantee.authenticatedUsers), .readACP)])
        #expect(acl.allows(Self.owner, .writeACP))  // the owner always
        #expect(acl.allows(Self.other, .read))
        #expect(!acl.allows(Self.other, .write))
        #expect(acl.allows(Self.other, .readACP))  // as an authenticated user
        #expect(!acl.allows(nil, .readACP))  // anonymous is not authenticated
        #expect(!acl.allows(nil, .read))
        let open = AccessControlList(owner: "owner", grants: [ACLGrant(.group(ACLGrantee.allUsers), .fullControl)])
        #expect(open.allows(nil, .write))
        #expect(!open.allows(nil, .write, ignorePublic: true))
    }

    @Test func aclsCountOnlyWhenEnabledAndAfterPolicyDeny() throws {
        var b = BucketAccess(name: "b", tenantID: "t", owner: "owner", policy: nil, grants: [])
        b.acl = AccessControlList(owner: "owner", grants: [ACLGrant(.group(ACLGrantee.allUsers), .read)])
        func decide(_ object: AccessControlList? = nil, action: String = "s3:ListBucket") -> Decision {
            Authorizer.authorize(
                principal: nil, action: action, bucket: b, resource: "arn:aws:s3:::b/k", context: [:], objectACL: object
            )
        }
        #expect(decide() == .deny(explicit: false))  // BucketOwnerEnforced: ACLs disabled
        b.ownership = .objectWriter
        #expect(decide() == .allow)
        let publicObject = AccessControlList(owner: "w", grants: [ACLGrant(.group(ACLGrantee.allUsers), .read)])
        #expect(decide(publicObject, action: "s3:GetObject") == .allow)
        #expect(decide(publicObject, action: "s3:PutObject") == .deny(explicit: false))
        b.publicAccessBlock = PublicAccessBlock(ignorePublicAcls: true)
        #expect(decide(publicObject, action: "s3:GetObject") == .deny(explicit: false))
        b.publicAccessBlock = nil
        b.policy = try BucketPolicy.parse(
            """
            {"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}
            """, bucket: "b")
        #expect(decide(publicObject, action: "s3:GetObject") == .deny(explicit: true))
    }
}
