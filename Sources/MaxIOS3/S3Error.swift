import MaxIOCore

/// S3 error codes, named exactly as AWS names them, with their HTTP status and default message.
package enum S3ErrorCode: String, Sendable {
    case AccessDenied, AuthorizationHeaderMalformed, AuthorizationQueryParametersError
    case BadDigest, BucketAlreadyExists, BucketAlreadyOwnedByYou, BucketNotEmpty
    case EntityTooLarge, EntityTooSmall, ExpiredToken, IllegalLocationConstraintException
    case IncompleteBody, InternalError, InvalidAccessKeyId, InvalidArgument, InvalidBucketName
    case InvalidDigest, InvalidLocationConstraint, InvalidObjectState, InvalidPart, InvalidPartOrder
    case InvalidRange, InvalidRequest, InvalidStorageClass, InvalidURI, KeyTooLongError
    case MalformedXML, MetadataTooLarge, MethodNotAllowed, MissingContentLength, MissingRequestBodyError
    case MissingSecurityHeader, NoSuchBucket, NoSuchKey, NoSuchUpload, NoSuchVersion, NotImplemented
    case NotModified, PreconditionFailed, RequestTimeTooSkewed, RequestTimeout, ServiceUnavailable
    case SignatureDoesNotMatch, SlowDown, XAmzContentSHA256Mismatch, InvalidEncryptionAlgorithmError
    case UnexpectedContent, InvalidChunkSizeError, TooManyBuckets, QuotaExceeded, InvalidPartNumber
    case NoSuchTagSet, NoSuchCORSConfiguration, NoSuchBucketPolicy, ServerSideEncryptionConfigurationNotFoundError
    case NoSuchLifecycleConfiguration, NoSuchWebsiteConfiguration, ObjectLockConfigurationNotFoundError
    case ReplicationConfigurationNotFoundError, NoSuchPublicAccessBlockConfiguration, OwnershipControlsNotFoundError
    case InvalidTag, InvalidBucketState, NoSuchObjectLockConfiguration, MalformedPolicy
    case AccessControlListNotSupported, InvalidBucketAclWithObjectOwnership, UnresolvableGrantByEmailAddress
    case MalformedACLError, AccessForbidden, BadRequest, MalformedPOSTRequest, MaxPostPreDataLengthExceeded
    case InvalidPolicyDocument

    package var status: Int {
        switch self {
        case .AccessDenied, .InvalidAccessKeyId, .SignatureDoesNotMatch, .RequestTimeTooSkewed, .ExpiredToken,
            .QuotaExceeded, .AccessForbidden:
            return 403
        case .NoSuchBucket, .NoSuchKey, .NoSuchUpload, .NoSuchVersion, .NoSuchTagSet, .NoSuchObjectLockConfiguration,
            .NoSuchCORSConfiguration,
            .NoSuchBucketPolicy, .ServerSideEncryptionConfigurationNotFoundError, .NoSuchLifecycleConfiguration,
            .NoSuchWebsiteConfiguration, .ObjectLockConfigurationNotFoundError, .ReplicationConfigurationNotFoundError,
            .NoSuchPublicAccessBlockConfiguration, .OwnershipControlsNotFoundError:
            return 404
        case .MethodNotAllowed: return 405
        case .BucketAlreadyExists, .BucketAlreadyOwnedByYou, .BucketNotEmpty, .InvalidBucketState: return 409
        case .MissingContentLength: return 411
        case .PreconditionFailed: return 412
        case .InvalidRange, .InvalidPartNumber: return 416
        case .InternalError: return 500
        case .NotImplemented: return 501
        case .ServiceUnavailable, .SlowDown: return 503
        case .NotModified: return 304
        case .InvalidObjectState: return 403
        default: return 400
        }
    }

    package var defaultMessage: String {
        switch self {
        case .AccessDenied: return "Access Denied"
        case .AccessForbidden: return "CORSResponse: This CORS request is not allowed."
        case .MalformedPOSTRequest: return "The body of your POST request is not well-formed multipart/form-data."
        case .MaxPostPreDataLengthExceeded:
            return "Your POST request fields preceeding the upload file were too large."
        case .InvalidPolicyDocument:
            return "The content of the form does not meet the conditions specified in the policy document."
        case .BadRequest: return "Bad Request"
        case .AuthorizationHeaderMalformed: return "The authorization header is malformed."
        case .AuthorizationQueryParametersError: return "Error parsing the X-Amz-Credential parameter."
        case .BadDigest: return "The Content-MD5 you specified did not match what we received."
        case .BucketAlreadyExists:
            return
                "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."
        case .BucketAlreadyOwnedByYou:
            return "Your previous request to create the named bucket succeeded and you already own it."
        case .BucketNotEmpty: return "The bucket you tried to delete is not empty"
        case .EntityTooLarge: return "Your proposed upload exceeds the maximum allowed object size."
        case .EntityTooSmall: return "Your proposed upload is smaller than the minimum allowed object size."
        case .ExpiredToken: return "The provided token has expired."
        case .IllegalLocationConstraintException:
            return "The specified location-constraint is not valid for this server."
        case .IncompleteBody:
            return "You did not provide the number of bytes specified by the Content-Length HTTP header."
        case .InternalError: return "We encountered an internal error. Please try again."
        case .InvalidAccessKeyId: return "The AWS Access Key Id you provided does not exist in our records."
        case .InvalidArgument: return "Invalid Argument"
        case .InvalidBucketName: return "The specified bucket is not valid."
        case .InvalidDigest: return "The Content-MD5 you specified is not valid."
        case .InvalidLocationConstraint: return "The specified location constraint is not valid."
        case .InvalidObjectState: return "The operation is not valid for the current state of the object."
        case .InvalidPart: return "One or more of the specified parts could not be found."
        case .InvalidPartOrder: return "The list of parts was not in ascending order."
        case .InvalidRange: return "The requested range is not satisfiable"
        case .InvalidRequest: return "Invalid Request"
        case .InvalidStorageClass: return "The storage class you specified is not valid"
        case .InvalidURI: return "Couldn't parse the specified URI."
        case .KeyTooLongError: return "Your key is too long"
        case .MalformedXML:
            return "The XML you provided was not well-formed or did not validate against our published schema"
        case .MetadataTooLarge: return "Your metadata headers exceed the maximum allowed metadata size"
        case .MethodNotAllowed: return "The specified method is not allowed against this resource."
        case .MissingContentLength: return "You must provide the Content-Length HTTP header."
        case .MissingRequestBodyError: return "Request Body is empty"
        case .MissingSecurityHeader: return "Your request was missing a required header"
        case .NoSuchBucket: return "The specified bucket does not exist"
        case .NoSuchKey: return "The specified key does not exist."
        case .NoSuchUpload:
            return
                "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
        case .NoSuchVersion: return "The specified version does not exist."
        case .NotImplemented: return "A header or query you provided implies functionality that is not implemented."
        case .NotModified: return "Not Modified"
        case .PreconditionFailed: return "At least one of the pre-conditions you specified did not hold"
        case .RequestTimeTooSkewed: return "The difference between the request time and the server's time is too large."
        case .RequestTimeout:
            return "Your socket connection to the server was not read from or written to within the timeout period."
        case .ServiceUnavailable: return "Please reduce your request rate."
        case .SignatureDoesNotMatch:
            return
                "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        case .SlowDown: return "Please reduce your request rate."
        case .XAmzContentSHA256Mismatch:
            return "The provided 'x-amz-content-sha256' header does not match what was computed."
        case .InvalidEncryptionAlgorithmError: return "The encryption request you specified is not valid."
        case .UnexpectedContent: return "This request does not support content"
        case .InvalidChunkSizeError: return "Only the last chunk is allowed to have a size less than 8192 bytes"
        case .TooManyBuckets: return "You have attempted to create more buckets than allowed"
        case .QuotaExceeded: return "The tenant's storage quota would be exceeded by this request."
        case .InvalidPartNumber: return "The requested partnumber is not satisfiable"
        case .NoSuchTagSet: return "The TagSet does not exist"
        case .InvalidTag: return "The tag provided was not a valid tag."
        case .InvalidBucketState: return "The request is not valid with the current state of the bucket."
        case .NoSuchObjectLockConfiguration: return "The specified object does not have a ObjectLock configuration"
        case .NoSuchCORSConfiguration: return "The CORS configuration does not exist"
        case .NoSuchBucketPolicy: return "The bucket policy does not exist"
        case .MalformedPolicy: return "Policies must be valid JSON and the first byte must be '{'"
        case .AccessControlListNotSupported: return "The bucket does not allow ACLs"
        case .InvalidBucketAclWithObjectOwnership:
            return "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"
        case .UnresolvableGrantByEmailAddress:
            return "The e-mail address you provided does not match any account on record."
        case .MalformedACLError:
            return "The XML you provided was not well-formed or did not validate against our published schema"
        case .ServerSideEncryptionConfigurationNotFoundError:
            return "The server side encryption configuration was not found"
        case .NoSuchLifecycleConfiguration: return "The lifecycle configuration does not exist"
        case .NoSuchWebsiteConfiguration: return "The specified bucket does not have a website configuration"
        case .ObjectLockConfigurationNotFoundError: return "Object Lock configuration does not exist for this bucket"
        case .ReplicationConfigurationNotFoundError: return "The replication configuration was not found"
        case .NoSuchPublicAccessBlockConfiguration: return "The public access block configuration was not found"
        case .OwnershipControlsNotFoundError: return "The bucket ownership controls were not found"
        }
    }
}

/// An S3 error as it goes on the wire.
package struct S3Error: Error, Sendable, ClassifiedError {
    package var code: S3ErrorCode
    package var message: String
    /// Extra elements of the `<Error>` document (e.g. `StringToSign`, `BucketName`), in order.
    package var extra: [(String, String)]
    /// Extra response headers.
    package var headers: [(String, String)]

    package init(
        _ code: S3ErrorCode, _ message: String? = nil, extra: [(String, String)] = [],
        headers: [(String, String)] = []
    ) {
        self.code = code
        self.message = message ?? code.defaultMessage
        self.extra = extra
        self.headers = headers
    }

    /// The `<Error>` document.
    package func xml(resource: String, requestID: String) -> String {
        var w = XMLWriter()
        w.open("Error", namespace: nil)
        w.element("Code", code.rawValue)
        w.element("Message", message)
        for (k, v) in extra { w.element(k, v) }
        w.element("Resource", resource)
        w.element("RequestId", requestID)
        w.close("Error")
        return w.finish()
    }
}
