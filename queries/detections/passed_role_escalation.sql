-- id: passed_role_escalation
-- title: Privilege escalation through a passed role or a removed permissions boundary
-- severity: high
-- attack: T1548.005, T1098.003
-- events: lambda.amazonaws.com:CreateFunction*, lambda.amazonaws.com:UpdateFunctionConfiguration*,
-- events: ec2.amazonaws.com:RunInstances, ec2.amazonaws.com:AssociateIamInstanceProfile,
-- events: ec2.amazonaws.com:ReplaceIamInstanceProfileAssociation, glue.amazonaws.com:CreateDevEndpoint,
-- events: glue.amazonaws.com:CreateJob, glue.amazonaws.com:UpdateJob, sagemaker.amazonaws.com:CreateNotebookInstance,
-- events: sagemaker.amazonaws.com:CreateTrainingJob, sagemaker.amazonaws.com:CreateProcessingJob,
-- events: cloudformation.amazonaws.com:CreateStack, cloudformation.amazonaws.com:UpdateStack,
-- events: codebuild.amazonaws.com:CreateProject, codebuild.amazonaws.com:UpdateProject,
-- events: iam.amazonaws.com:DeleteUserPermissionsBoundary, iam.amazonaws.com:DeleteRolePermissionsBoundary,
-- events: iam.amazonaws.com:AttachRolePolicy
-- description: A principal handing a privileged role to a resource it controls, so that code it writes runs with
-- description: that role (iam:PassRole abuse): a Lambda function created or reconfigured, an EC2 instance launched
-- description: or given an instance profile, a Glue dev endpoint or job, a SageMaker notebook or job, a
-- description: CloudFormation stack or a CodeBuild project, with a role that is privileged: its name matches
-- description: admin_names, or the dataset shows AdministratorAccess, PowerUserAccess or IAMFullAccess attached to
-- description: it (an instance profile is matched by its name, which the console makes the role's). High. An
-- description: instance profile associated with or swapped on a running instance is reported whatever the role
-- description: (medium). A permissions boundary removed from a user or role (high). Calls refused for lack of
-- description: permission are denied attempts (one severity lower). AWS services calling on their own behalf are
-- description: left out.
-- description: Request shapes read: role (Lambda), iamInstanceProfile.arn / .name (EC2), roleArn / RoleArn / role
-- description: (Glue, SageMaker), roleARN (CloudFormation), serviceRole (CodeBuild), userName / roleName
-- description: (boundaries); AttachRolePolicy roleName + policyArn for the privileged-role baseline.
-- false_positives: Administrators deploying functions or stacks with an admin role (give deployments a scoped role).
-- references: https://attack.mitre.org/techniques/T1098/003/,
-- references: https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/,
-- references: https://hackingthe.cloud/aws/exploitation/iam_privilege_escalation/
-- param: admin_names text admin,poweruser,superuser,fullaccess | Role name words marking a privileged role (case-insensitive substrings)
WITH calls AS (
    SELECT *, request_parameters AS rp, tfh_denied(error_code) AS denied
    FROM events
    WHERE event_source IN ('lambda.amazonaws.com', 'ec2.amazonaws.com', 'glue.amazonaws.com',
                           'sagemaker.amazonaws.com', 'cloudformation.amazonaws.com', 'codebuild.amazonaws.com',
                           'iam.amazonaws.com')
      AND (event_source = 'lambda.amazonaws.com'
               AND (starts_with(event_name, 'CreateFunction') OR starts_with(event_name, 'UpdateFunctionConfiguration'))
           OR split_part(event_source, '.', 1) || ':' || event_name IN (
               'ec2:RunInstances', 'ec2:AssociateIamInstanceProfile', 'ec2:ReplaceIamInstanceProfileAssociation',
               'glue:CreateDevEndpoint', 'glue:CreateJob', 'glue:UpdateJob', 'sagemaker:CreateNotebookInstance',
               'sagemaker:CreateTrainingJob', 'sagemaker:CreateProcessingJob', 'cloudformation:CreateStack',
               'cloudformation:UpdateStack', 'codebuild:CreateProject', 'codebuild:UpdateProject',
               'iam:DeleteUserPermissionsBoundary', 'iam:DeleteRolePermissionsBoundary'))
      AND (error_code IS NULL OR tfh_denied(error_code))
      AND user_identity_invoked_by IS NULL
      AND NOT coalesce(contains(user_identity_arn, ':assumed-role/AWSServiceRole'), false)
      AND NOT coalesce(contains(session_issuer_arn, ':role/aws-service-role/'), false)
),
passed AS (
    SELECT *, coalesce(rp->>'$.role', rp->>'$.roleArn', rp->>'$.RoleArn', rp->>'$.roleARN', rp->>'$.serviceRole',
                       rp->>'$.project.serviceRole', rp->>'$.jobUpdate.Role', rp->>'$.iamInstanceProfile.arn',
                       rp->>'$.iamInstanceProfile.name', rp->>'$.IamInstanceProfile.Arn',
                       rp->>'$.IamInstanceProfile.Name',
                       (rp->>'$.instancesSet.items[*].iamInstanceProfile.arn')[1],
                       (rp->>'$.instancesSet.items[*].iamInstanceProfile.name')[1]) AS role
    FROM calls
    WHERE event_name NOT IN ('DeleteUserPermissionsBoundary', 'DeleteRolePermissionsBoundary')
),
admin_roles AS (  -- roles the dataset shows being given an administrator policy
    SELECT DISTINCT lower(request_parameters->>'$.roleName') AS name
    FROM events
    WHERE event_source = 'iam.amazonaws.com' AND event_name = 'AttachRolePolicy' AND error_code IS NULL
      AND regexp_matches(request_parameters->>'$.policyArn', '/(AdministratorAccess|PowerUserAccess|IAMFullAccess)$')
),
judged AS (
    SELECT p.*, regexp_extract(role, '([^/:]+)$', 1) AS role_name,
           lower(regexp_extract(role, '([^/:]+)$', 1)) IN (SELECT name FROM admin_roles) AS admin_attached,
           len(list_filter(string_split(lower($admin_names), ','),
                           lambda w: trim(w) <> '' AND contains(lower(regexp_extract(role, '([^/:]+)$', 1)), trim(w)))) > 0
               AS admin_named
    FROM passed p
    WHERE role IS NOT NULL AND role <> ''
),
role_hits AS (
    SELECT *, CASE WHEN admin_attached OR admin_named THEN 'high' ELSE 'medium' END AS severity,
           'role ' || role_name || ' passed to ' || split_part(event_source, '.', 1) || ' ' || event_name
           || CASE WHEN admin_attached THEN ' (an administrator policy was attached to it in the dataset)'
                   WHEN admin_named THEN ' (a privileged role by its name)' ELSE ' (instance profile changed on a running instance)' END
           || CASE WHEN denied THEN '; denied (' || error_code || ')' ELSE '' END AS details
    FROM judged
    WHERE admin_attached OR admin_named
       OR event_name IN ('AssociateIamInstanceProfile', 'ReplaceIamInstanceProfileAssociation')
),
boundary_hits AS (
    SELECT *, 'high' AS severity,
           'permissions boundary removed from ' || coalesce('user ' || (rp->>'$.userName'), 'role ' || (rp->>'$.roleName'), '?')
           || CASE WHEN denied THEN '; denied (' || error_code || ')' ELSE '' END AS details
    FROM calls
    WHERE event_name IN ('DeleteUserPermissionsBoundary', 'DeleteRolePermissionsBoundary')
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details, severity, denied AS attempt
FROM role_hits
UNION ALL
SELECT event_time, actor, user_identity_access_key_id, source_ip_address, user_agent, aws_region,
       recipient_account_id, event_name, event_id, details, severity, denied
FROM boundary_hits
ORDER BY event_time
