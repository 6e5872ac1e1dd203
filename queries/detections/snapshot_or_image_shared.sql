-- id: snapshot_or_image_shared
-- title: Snapshot, image or database shared or exported
-- severity: high
-- attack: T1537
-- events: ec2.amazonaws.com:ModifySnapshotAttribute, ec2.amazonaws.com:ModifyImageAttribute,
-- events: ec2.amazonaws.com:CreateInstanceExportTask, rds.amazonaws.com:ModifyDBSnapshotAttribute,
-- events: rds.amazonaws.com:ModifyDBClusterSnapshotAttribute, rds.amazonaws.com:StartExportTask,
-- events: rds.amazonaws.com:CopyDBSnapshot, rds.amazonaws.com:CopyDBClusterSnapshot
-- description: Data moved out through snapshots: EBS snapshots and AMIs made public or shared with an account
-- description: outside known_accounts; RDS snapshots made public or shared likewise; instances exported to S3; RDS
-- description: snapshot export tasks; RDS snapshots copied from another region or encrypted with another account's key.
-- description: Request shapes read: createVolumePermission.add / launchPermission.add with items[] (or one item
-- description: logged bare) of group / userId, whatever attributeType says; the query API's top-level
-- description: operationType add with userId / userGroup (a string or a list); valuesToAdd[] with attributeName
-- description: restore (RDS); instanceId, exportToS3(Task).s3Bucket; sourceArn, s3BucketName; sourceRegion or the
-- description: region of the source snapshot ARN, kmsKeyId.
-- false_positives: Sharing with accounts of the same organisation that are not in the dataset (add them with
-- false_positives: --known-accounts); published AMIs; analytics exports of snapshots; disaster-recovery copies.
-- references: https://attack.mitre.org/techniques/T1537/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.exfiltration.ec2-share-ebs-snapshot/,
-- references: https://stratus-red-team.cloud/attack-techniques/AWS/aws.exfiltration.rds-share-snapshot/
WITH calls AS (
    SELECT *, request_parameters AS rp
    FROM events
    WHERE event_name IN ('ModifySnapshotAttribute', 'ModifyImageAttribute', 'CreateInstanceExportTask',
                         'ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute', 'StartExportTask',
                         'CopyDBSnapshot', 'CopyDBClusterSnapshot')
      AND event_source IN ('ec2.amazonaws.com', 'rds.amazonaws.com')
      AND tfh_ok(error_code, response_elements, event_name)
),
shares AS (
    SELECT *,
           -- the SDK's nested form (createVolumePermission / launchPermission .add.items[], an item logged bare when
           -- alone) or the query API's top-level form (operationType add with userId / userGroup values)
           CASE WHEN event_name = 'ModifySnapshotAttribute' THEN coalesce(rp->'$.createVolumePermission.add',
                    CASE WHEN lower(rp->>'$.operationType') = 'add' THEN rp END)
                WHEN event_name = 'ModifyImageAttribute' THEN coalesce(rp->'$.launchPermission.add',
                    CASE WHEN lower(rp->>'$.operationType') = 'add' THEN rp END) END AS added,
           coalesce(rp->>'$.snapshotId', rp->>'$.imageId', rp->>'$.dBSnapshotIdentifier',
                    rp->>'$.dBClusterSnapshotIdentifier', '?') AS resource
    FROM calls
),
grants AS (   -- what an EC2 share added: "all" (public) and account ids, whether values are lists or strings
    SELECT *,
           len(list_filter(list_concat(coalesce(added->>'$..group', []),
                                       list_concat(coalesce(added->>'$..userGroup', []),
                                                   coalesce(added->>'$..groupNames', []))),
                           lambda v: regexp_matches(v, '^all$|"all"'))) > 0 AS to_all,
           list_distinct(flatten(list_transform(list_concat(coalesce(added->>'$..userId', []),
                                                            coalesce(added->>'$..userIds', [])),
                                                lambda v: regexp_extract_all(v, '[0-9]{12}')))) AS to_accounts
    FROM shares
),
judged AS (
    SELECT *, CASE
        WHEN event_name IN ('ModifySnapshotAttribute', 'ModifyImageAttribute') THEN concat_ws('; ',
            CASE WHEN to_all THEN resource || ' made public' END,
            CASE WHEN len(tfh_unknown(to_accounts)) > 0
                 THEN resource || ' shared with unknown account(s) ' || array_to_string(tfh_unknown(to_accounts), ', ') END)
        WHEN event_name IN ('ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute')
             AND (rp->>'$.attributeName') = 'restore' THEN concat_ws('; ',
            CASE WHEN list_contains(rp->>'$.valuesToAdd[*]', 'all') THEN resource || ' made public' END,
            CASE WHEN len(tfh_unknown(list_filter(coalesce(rp->>'$.valuesToAdd[*]', []), lambda v: v <> 'all'))) > 0
                 THEN resource || ' shared with unknown account(s) ' || array_to_string(
                      tfh_unknown(list_filter(rp->>'$.valuesToAdd[*]', lambda v: v <> 'all')), ', ') END)
        WHEN event_name = 'CreateInstanceExportTask' THEN
            'instance ' || coalesce(rp->>'$.instanceId', '?') || ' exported to bucket '
            || coalesce(rp->>'$.exportToS3.s3Bucket', (rp->>'$..s3Bucket')[1], '?')
        WHEN event_name = 'StartExportTask' THEN
            coalesce(rp->>'$.sourceArn', '?') || ' exported to bucket ' || coalesce(rp->>'$.s3BucketName', '?')
        WHEN event_name IN ('CopyDBSnapshot', 'CopyDBClusterSnapshot') THEN concat_ws('; ',
            CASE WHEN coalesce(rp->>'$.sourceRegion',
                               regexp_extract(coalesce(rp->>'$.sourceDBSnapshotIdentifier',
                                                       rp->>'$.sourceDBClusterSnapshotIdentifier'),
                                              '^arn:[^:]+:rds:([^:]+):', 1)) NOT IN ('', aws_region)
                 THEN 'snapshot copied from ' || coalesce(rp->>'$.sourceRegion', regexp_extract(coalesce(
                      rp->>'$.sourceDBSnapshotIdentifier', rp->>'$.sourceDBClusterSnapshotIdentifier'),
                      '^arn:[^:]+:rds:([^:]+):', 1)) || ' to ' || aws_region END,
            CASE WHEN len(tfh_unknown([tfh_arn_account(rp->>'$.kmsKeyId')])) > 0
                 THEN 'copy encrypted with a key of unknown account ' || tfh_arn_account(rp->>'$.kmsKeyId') END)
    END AS details
    FROM grants
)
SELECT event_time, actor, user_identity_access_key_id AS access_key, source_ip_address AS source_ip, user_agent,
       aws_region AS region, recipient_account_id AS account, event_name, event_id, details
FROM judged
WHERE nullif(details, '') IS NOT NULL
ORDER BY event_time
