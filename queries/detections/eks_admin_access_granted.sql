-- id: eks_admin_access_granted
-- title: EKS cluster-admin access granted
-- severity: medium
-- attack: T1098.006
-- events: eks.amazonaws.com:AssociateAccessPolicy
-- description: An EKS access policy granting cluster-wide admin rights (AmazonEKSClusterAdminPolicy or
-- description: AmazonEKSAdminPolicy) associated with a principal (notable change).
-- description: A namespace-scoped association is reported too (admin of those namespaces); the details give the
-- description: scope. Request shapes read: policyArn, principalArn, name (or clusterName), accessScope.type and
-- description: accessScope.namespaces.
-- false_positives: Cluster administrators being onboarded; platform automation.
-- references: https://attack.mitre.org/techniques/T1098/006/,
-- references: https://docs.aws.amazon.com/eks/latest/userguide/access-policies.html
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id,
       regexp_extract(request_parameters->>'$.policyArn', '[^/]+$') || ' granted to '
       || coalesce(request_parameters->>'$.principalArn', '?') || ' on cluster '
       || coalesce(request_parameters->>'$.name', request_parameters->>'$.clusterName', '?')
       || coalesce(' (scope ' || (request_parameters->>'$.accessScope.type') || coalesce(': ' || nullif(
              array_to_string(request_parameters->>'$.accessScope.namespaces[*]', ', '), ''), '') || ')', '')
       AS details
FROM events
WHERE event_source = 'eks.amazonaws.com' AND event_name = 'AssociateAccessPolicy'
  AND tfh_ok(error_code, response_elements, event_name)
  AND regexp_matches(request_parameters->>'$.policyArn', '/(AmazonEKSClusterAdminPolicy|AmazonEKSAdminPolicy)$')
ORDER BY event_time
