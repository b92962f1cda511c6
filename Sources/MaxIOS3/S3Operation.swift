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
