/// Every S3 operation, named exactly as AWS names it.
package enum S3Operation: String, Sendable, CaseIterable {
    // service
    case ListBuckets
    // bucket
    case CreateBucket, DeleteBucket, HeadBucket, GetBucketLocation
    case ListObjects, ListObjectsV2, ListObjectVersions, ListMultipartUploads
    case DeleteObjects, PostObject
    case GetBucketAccelerateConfiguration, PutBucketAccelerateConfiguration
    case GetBucketAcl, PutBucketAcl
    case GetBucketAnalyticsConfiguration, PutBucketAnalyticsConfiguration, DeleteBucketAnalyticsConfiguration
    case ListBucketAnalyticsConfigurations
    case GetBucketCors, PutBucketCors, DeleteBucketCors
    case GetBucketEncryption, PutBucketEncryption, DeleteBucketEncryption
    case GetBucketIntelligentTieringConfiguration, PutBucketIntelligentTieringConfiguration
    case DeleteBucketIntelligentTieringConfiguration, ListBucketIntelligentTieringConfigurations
    case GetBucketInventoryConfiguration, PutBucketInventoryConfiguration, DeleteBucketInventoryConfiguration
    case ListBucketInventoryConfigurations
    case GetBucketLifecycleConfiguration, PutBucketLifecycleConfiguration, DeleteBucketLifecycle
    case GetBucketLogging, PutBucketLogging
    case GetBucketMetricsConfiguration, PutBucketMetricsConfiguration, DeleteBucketMetricsConfiguration
    case ListBucketMetricsConfigurations
    case GetBucketNotificationConfiguration, PutBucketNotificationConfiguration
    case GetBucketOwnershipControls, PutBucketOwnershipControls, DeleteBucketOwnershipControls
    case GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy, GetBucketPolicyStatus
    case GetBucketReplication, PutBucketReplication, DeleteBucketReplication
    case GetBucketRequestPayment, PutBucketRequestPayment
    case GetBucketTagging, PutBucketTagging, DeleteBucketTagging
    case GetBucketVersioning, PutBucketVersioning
    case GetBucketWebsite, PutBucketWebsite, DeleteBucketWebsite
    case GetObjectLockConfiguration, PutObjectLockConfiguration
    case GetPublicAccessBlock, PutPublicAccessBlock, DeletePublicAccessBlock
    case CreateSession
    // object
    case GetObject, HeadObject, PutObject, DeleteObject, CopyObject
    case GetObjectAcl, PutObjectAcl, GetObjectAttributes
    case GetObjectLegalHold, PutObjectLegalHold, GetObjectRetention, PutObjectRetention
    case GetObjectTagging, PutObjectTagging, DeleteObjectTagging, GetObjectTorrent
    case CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload
    case ListParts
    case RestoreObject, SelectObjectContent, RenameObject
    case CreateBucketMetadataConfiguration, GetBucketMetadataConfiguration, DeleteBucketMetadataConfiguration
    case CreateBucketMetadataTableConfiguration, GetBucketMetadataTableConfiguration
    case DeleteBucketMetadataTableConfiguration, UpdateBucketMetadataInventoryTableConfiguration
    case UpdateBucketMetadataJournalTableConfiguration, GetBucketAbac, PutBucketAbac, UpdateObjectEncryption

    /// Whether this operation changes state.
    package var isWrite: Bool {
        switch self {
        case .ListBuckets, .HeadBucket, .GetBucketLocation, .ListObjects, .ListObjectsV2, .ListObjectVersions,
            .ListMultipartUploads, .GetObject, .HeadObject, .GetObjectAcl, .GetObjectAttributes,
            .GetObjectLegalHold, .GetObjectRetention, .GetObjectTagging, .GetObjectTorrent, .ListParts,
            .GetBucketPolicyStatus, .CreateSession, .SelectObjectContent:
            return false
        default:
            return !rawValue.hasPrefix("Get") && !rawValue.hasPrefix("List")
        }
    }
}

extension S3Operation {
    /// The IAM action that authorizes this operation (`s3:GetObject`), as bucket policies name it.
    /// `versioned`: the request names a version (`versionId`), which AWS authorizes with the `...Version` actions.
    package func iamAction(versioned: Bool = false) -> String {
        switch self {
        case .ListBuckets: return "s3:ListAllMyBuckets"
        case .HeadBucket, .ListObjects, .ListObjectsV2: return "s3:ListBucket"
        case .ListObjectVersions: return "s3:ListBucketVersions"
        case .ListMultipartUploads: return "s3:ListBucketMultipartUploads"
        case .ListParts: return "s3:ListMultipartUploadParts"
        case .GetObject, .HeadObject: return versioned ? "s3:GetObjectVersion" : "s3:GetObject"
        case .GetObjectAttributes: return versioned ? "s3:GetObjectVersionAttributes" : "s3:GetObjectAttributes"
        case .GetObjectAcl: return versioned ? "s3:GetObjectVersionAcl" : "s3:GetObjectAcl"
        case .PutObjectAcl: return versioned ? "s3:PutObjectVersionAcl" : "s3:PutObjectAcl"
        case .GetObjectTagging: return versioned ? "s3:GetObjectVersionTagging" : "s3:GetObjectTagging"
        case .PutObjectTagging: return versioned ? "s3:PutObjectVersionTagging" : "s3:PutObjectTagging"
        case .DeleteObjectTagging: return versioned ? "s3:DeleteObjectVersionTagging" : "s3:DeleteObjectTagging"
        case .DeleteObject: return versioned ? "s3:DeleteObjectVersion" : "s3:DeleteObject"
        case .DeleteObjects: return "s3:DeleteObject"
        case .PutObject, .CopyObject, .CreateMultipartUpload, .UploadPart, .UploadPartCopy,
            .CompleteMultipartUpload, .PostObject:
            return "s3:PutObject"
        case .GetBucketCors: return "s3:GetBucketCORS"
        case .PutBucketCors, .DeleteBucketCors: return "s3:PutBucketCORS"
        case .GetBucketEncryption: return "s3:GetEncryptionConfiguration"
        case .PutBucketEncryption, .DeleteBucketEncryption: return "s3:PutEncryptionConfiguration"
        case .GetBucketLifecycleConfiguration: return "s3:GetLifecycleConfiguration"
        case .PutBucketLifecycleConfiguration, .DeleteBucketLifecycle: return "s3:PutLifecycleConfiguration"
        case .GetBucketNotificationConfiguration: return "s3:GetBucketNotification"
        case .PutBucketNotificationConfiguration: return "s3:PutBucketNotification"
        case .DeleteBucketOwnershipControls: return "s3:PutBucketOwnershipControls"
        case .GetBucketReplication: return "s3:GetReplicationConfiguration"
        case .PutBucketReplication, .DeleteBucketReplication: return "s3:PutReplicationConfiguration"
        case .DeleteBucketTagging: return "s3:PutBucketTagging"
        case .GetObjectLockConfiguration: return "s3:GetBucketObjectLockConfiguration"
        case .PutObjectLockConfiguration: return "s3:PutBucketObjectLockConfiguration"
        case .GetPublicAccessBlock: return "s3:GetBucketPublicAccessBlock"
        case .PutPublicAccessBlock, .DeletePublicAccessBlock: return "s3:PutBucketPublicAccessBlock"
        case .GetBucketAccelerateConfiguration: return "s3:GetAccelerateConfiguration"
        case .PutBucketAccelerateConfiguration: return "s3:PutAccelerateConfiguration"
        case .GetBucketAnalyticsConfiguration, .ListBucketAnalyticsConfigurations:
            return "s3:GetAnalyticsConfiguration"
        case .PutBucketAnalyticsConfiguration, .DeleteBucketAnalyticsConfiguration:
            return "s3:PutAnalyticsConfiguration"
        case .GetBucketInventoryConfiguration, .ListBucketInventoryConfigurations:
            return "s3:GetInventoryConfiguration"
        case .PutBucketInventoryConfiguration, .DeleteBucketInventoryConfiguration:
            return "s3:PutInventoryConfiguration"
        case .GetBucketMetricsConfiguration, .ListBucketMetricsConfigurations: return "s3:GetMetricsConfiguration"
        case .PutBucketMetricsConfiguration, .DeleteBucketMetricsConfiguration: return "s3:PutMetricsConfiguration"
        case .GetBucketIntelligentTieringConfiguration, .ListBucketIntelligentTieringConfigurations:
            return "s3:GetIntelligentTieringConfiguration"
        case .PutBucketIntelligentTieringConfiguration, .DeleteBucketIntelligentTieringConfiguration:
            return "s3:PutIntelligentTieringConfiguration"
        case .DeleteBucketWebsite: return "s3:DeleteBucketWebsite"
        case .SelectObjectContent: return "s3:GetObject"
        default: return "s3:" + rawValue
        }
    }
}
