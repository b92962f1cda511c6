import MaxIOCore

/// Why a request's authentication failed. Translated to an S3 error in one place (MaxIOS3API).
package struct SignatureError: Error, Sendable, Equatable, ClassifiedError {
    package enum Code: Sendable, Equatable {
        case authorizationHeaderMalformed
        case authorizationQueryParametersError
        case missingSecurityHeader
        case invalidAccessKeyId
        case signatureDoesNotMatch
        case requestExpired
        case requestTimeTooSkewed
        case contentSHA256Mismatch
        case invalidContentSHA256
        case unsupportedAlgorithm
        case accessDenied
        case incompleteBody
        case malformedChunk
        case missingContentLength
        case invalidArgument
    }

    package var code: Code
    package var message: String?
    package var stringToSign: String?
    package var canonicalRequest: String?
    package var accessKey: String?
    package var signatureProvided: String?
    /// The region the server expected, for scope errors.
    package var expectedRegion: String?
    /// `x-amz-*` headers present but not covered by the signature.
    package var headersNotSigned: String?

    package init(
        _ code: Code, _ message: String? = nil, stringToSign: String? = nil, canonicalRequest: String? = nil,
        accessKey: String? = nil
    ) {
        self.code = code
        self.message = message
        self.stringToSign = stringToSign
        self.canonicalRequest = canonicalRequest
        self.accessKey = accessKey
    }
}
