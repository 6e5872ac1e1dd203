-- id: federation_trust_changes
-- title: Identity federation or trust anchor changed
-- severity: high
-- attack: T1484.002, T1556.007, T1098.003
-- events: iam.amazonaws.com:CreateSAMLProvider, iam.amazonaws.com:UpdateSAMLProvider,
-- events: iam.amazonaws.com:DeleteSAMLProvider, iam.amazonaws.com:CreateOpenIDConnectProvider,
-- events: iam.amazonaws.com:AddClientIDToOpenIDConnectProvider,
-- events: iam.amazonaws.com:UpdateOpenIDConnectProviderThumbprint,
-- events: sso-directory.amazonaws.com:AssociateDirectory, sso-directory.amazonaws.com:DisassociateDirectory,
-- events: sso-directory.amazonaws.com:EnableExternalIdPConfigurationForDirectory,
-- events: sso-directory.amazonaws.com:DisableExternalIdPConfigurationForDirectory,
-- events: sso.amazonaws.com:CreateTrustedTokenIssuer, sso.amazonaws.com:UpdateTrustedTokenIssuer,
-- events: rolesanywhere.amazonaws.com:CreateTrustAnchor, rolesanywhere.amazonaws.com:UpdateTrustAnchor,
-- events: rolesanywhere.amazonaws.com:CreateProfile
-- description: Changes to who the accounts trust for sign-in: IAM SAML and OIDC identity providers created, updated
-- description: or deleted; IAM Identity Center directory or external IdP changes and trusted token issuers; IAM Roles
-- description: Anywhere trust anchors and profiles. Rare and high impact, so every successful call is reported
-- description: (Identity Center's own service-linked changes are left out).
-- description: Request shapes read: name, sAMLProviderArn, openIDConnectProviderArn, url, trustAnchorId, directoryId
-- description: (details only: every successful call is reported).
-- false_positives: Planned IdP migrations and certificate rotations; CI/CD OIDC providers being set up.
-- references: https://attack.mitre.org/techniques/T1484/002/, https://attack.mitre.org/techniques/T1556/007/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.persistence.rolesanywhere-create-trust-anchor/
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       event_name || coalesce(': ' || coalesce(request_parameters->>'$.name', request_parameters->>'$.sAMLProviderArn',
                                               request_parameters->>'$.openIDConnectProviderArn',
                                               request_parameters->>'$.url', request_parameters->>'$.trustAnchorId',
                                               request_parameters->>'$.directoryId'), '') AS details
FROM events
WHERE event_source IN ('iam.amazonaws.com', 'sso-directory.amazonaws.com', 'sso.amazonaws.com',
                       'rolesanywhere.amazonaws.com')
  AND event_name IN ('CreateSAMLProvider', 'UpdateSAMLProvider', 'DeleteSAMLProvider', 'CreateOpenIDConnectProvider',
                     'AddClientIDToOpenIDConnectProvider', 'UpdateOpenIDConnectProviderThumbprint',
                     'AssociateDirectory', 'DisassociateDirectory', 'EnableExternalIdPConfigurationForDirectory',
                     'DisableExternalIdPConfigurationForDirectory', 'CreateTrustedTokenIssuer',
                     'UpdateTrustedTokenIssuer', 'CreateTrustAnchor', 'UpdateTrustAnchor', 'CreateProfile')
  AND tfh_ok(error_code, response_elements, event_name)
  AND coalesce(user_identity_invoked_by, '') <> 'sso.amazonaws.com'
  AND NOT coalesce(contains(user_identity_arn, ':assumed-role/AWSServiceRoleForSSO/'), false)
ORDER BY event_time
