-- id: domain_transfer
-- title: Route 53 domain transfer lock removed or domain transferred
-- severity: medium
-- attack: T1584.001
-- events: route53domains.amazonaws.com:DisableDomainTransferLock,
-- events: route53domains.amazonaws.com:TransferDomainToAnotherAwsAccount,
-- events: route53domains.amazonaws.com:RetrieveDomainAuthCode
-- description: A registered domain's transfer lock disabled, its auth code retrieved or the domain transferred to
-- description: another AWS account: the first steps of a domain hijack (notable change).
-- description: Request shapes read: domainName, accountId (TransferDomainToAnotherAwsAccount).
-- false_positives: Planned registrar or account moves.
-- references: https://attack.mitre.org/techniques/T1584/001/,
-- references: https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/domain-transfer-between-aws-accounts.html
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       event_name || ': ' || coalesce(request_parameters->>'$.domainName', '?')
       || coalesce(' to account ' || (request_parameters->>'$.accountId'), '') AS details
FROM events
WHERE event_source = 'route53domains.amazonaws.com'
  AND event_name IN ('DisableDomainTransferLock', 'TransferDomainToAnotherAwsAccount', 'RetrieveDomainAuthCode')
  AND tfh_ok(error_code, response_elements, event_name)
ORDER BY event_time
