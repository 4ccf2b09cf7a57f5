"""The GraphQL documents the Dagster UI sends for an asset's Partitions and Checks tabs, verbatim.

Copied from the source of the installed ``dagster-webserver`` 1.13.27 web app (its source maps,
``dagster_webserver/webapp/build/_next/static/chunks/*.js.map``; upstream ``js_modules/ui-core/src``),
each query with every fragment it spreads. ``python benchmarks/ui_queries.py`` extracts them again from
the installed web app and says whether they still match (re-run it after a Dagster upgrade).

* ``PARTITION_HEALTH_QUERY`` (``ui-core/src/assets/usePartitionHealthData.tsx``): the asset's
  Partitions tab (``assetPartitionStatuses``).
* ``ASSET_CHECKS_QUERY`` (``ui-core/src/assets/asset-checks/AssetChecksQuery.tsx``): the asset's Checks
  tab and a check's page; it asks for ``partitionStatuses`` of **every** check of the asset.
* ``ASSET_CHECK_PARTITION_HEALTH_QUERY``
  (``ui-core/src/assets/asset-checks/useAssetCheckPartitionData.tsx``): a check's Partitions tab, one
  check's ``partitionStatuses``.
* ``ASSET_CHECK_DETAILS_QUERY`` (``ui-core/src/assets/asset-checks/AssetCheckDetailDialog.tsx``): a
  check's execution history (25 per page).
* ``ASSET_GRAPH_LIVE_QUERY`` (``ui-core/src/asset-data/AssetBaseDataProvider.tsx``): the live data of
  every asset page (and of the lineage graph's nodes), sent alongside ``AssetChecksQuery`` by the
  Checks tab; it too asks for ``partitionStatuses`` of every check.
* ``LATEST_ASSET_PARTITIONS_QUERY`` and ``ASSET_PARTITION_EVENTS_QUERY``
  (``ui-core/src/assets/useRecentAssetEvents.tsx``, used by ``AssetEventMetadataPlots.tsx``): the
  asset's metadata **Plots** view by partition: the definition's newest 120 partition keys
  (``partitionKeyConnection(limit: 120, ascending: false)``), then the latest materialisation of each
  (``latestMaterializationByPartition``), whose Int/Float metadata entries it draws, one chart per label.
"""

from __future__ import annotations

import glob
import json
import re
import sys
from pathlib import Path

# ui-core/src/assets/usePartitionHealthData.tsx
PARTITION_HEALTH_QUERY = """
query PartitionHealthQuery($assetKey: AssetKeyInput!) {
    assetNodeOrError(assetKey: $assetKey) {
      ... on AssetNode {
        id
        partitionKeysByDimension {
          name
          type
          partitionKeys
        }
        assetPartitionStatuses {
          ... on TimePartitionStatuses {
            ranges {
              status
              startTime
              endTime
              startKey
              endKey
            }
          }
          ... on DefaultPartitionStatuses {
            materializedPartitions
            materializingPartitions
            failedPartitions
          }
          ... on MultiPartitionStatuses {
            primaryDimensionName
            ranges {
              primaryDimStartKey
              primaryDimEndKey
              primaryDimStartTime
              primaryDimEndTime
              secondaryDim {
                ... on TimePartitionStatuses {
                  ranges {
                    status
                    startTime
                    endTime
                    startKey
                    endKey
                  }
                }
                ... on DefaultPartitionStatuses {
                  materializedPartitions
                  materializingPartitions
                  failedPartitions
                }
              }
            }
          }
        }
      }
    }
  }

"""

# ui-core/src/assets/asset-checks/AssetChecksQuery.tsx
ASSET_CHECKS_QUERY = """
query AssetChecksQuery($assetKey: AssetKeyInput!) {
    assetNodeOrError(assetKey: $assetKey) {
      ... on AssetNode {
        id
        ...ExecuteChecksButtonAssetNodeFragment
        ...ReportCheckEvaluationAssetNodeFragment

        assetChecksOrError {
          ... on AssetCheckNeedsMigrationError {
            message
          }
          ... on AssetChecks {
            checks {
              ...AssetCheckKeyFragment
              ...ExecuteChecksButtonCheckFragment
              ...AssetCheckTableFragment
              ...AssetCheckPartitionFragment
            }
          }
        }
      }
    }
  }
fragment AssetCheckEvaluationTargetMaterializationFragment on AssetCheckEvaluationTargetMaterializationData {
    timestamp
    runId
  }
fragment AssetCheckExecutionFragment on AssetCheckExecution {
    id
    runId
    status
    stepKey
    timestamp
    run {
      id
      status
    }
    evaluation {
      severity
      timestamp
      description
      targetMaterialization {
        ...AssetCheckEvaluationTargetMaterializationFragment
      }
      metadataEntries {
        ...MetadataEntryFragment
      }
      partition
    }
  }
fragment AssetCheckKeyFragment on AssetCheck {
    name
    assetKey {
      path
    }
  }
fragment AssetCheckPartitionFragment on AssetCheck {
    partitionDefinition {
      description
      dimensionTypes {
        type
        dynamicPartitionsDefinitionName
      }
    }
  }
fragment AssetCheckTableFragment on AssetCheck {
    name
    description
    canExecuteIndividually
    blocking
    automationCondition {
      label
      expandedLabel
    }
    ...ExecuteChecksButtonCheckFragment
    executionForLatestMaterialization {
      ...AssetCheckExecutionFragment
    }
    partitionDefinition {
      name
      description
    }
    partitionStatuses {
      ... on AssetCheckDefaultPartitionStatuses {
        succeededPartitions
        failedPartitions
        inProgressPartitions
        skippedPartitions
        executionFailedPartitions
      }
      ... on AssetCheckTimePartitionStatuses {
        ranges {
          startKey
          endKey
          status
        }
      }
      ... on AssetCheckMultiPartitionStatuses {
        primaryDimensionName
        ranges {
          primaryDimStartKey
          primaryDimEndKey
          secondaryDim {
            ... on AssetCheckDefaultPartitionStatuses {
              succeededPartitions
              failedPartitions
              inProgressPartitions
              skippedPartitions
              executionFailedPartitions
            }
            ... on AssetCheckTimePartitionStatuses {
              ranges {
                startKey
                endKey
                status
              }
            }
          }
        }
      }
    }
  }
fragment ConstraintsForTableColumn on TableColumnConstraints {
    nullable
    unique
    other
  }
fragment ExecuteChecksButtonAssetNodeFragment on AssetNode {
    id
    jobNames
    assetKey {
      path
    }
    repository {
      id
      name
      location {
        id
        name
      }
    }
  }
fragment ExecuteChecksButtonCheckFragment on AssetCheck {
    name
    canExecuteIndividually
    jobNames
  }
fragment MetadataEntryFragment on MetadataEntry {
    label
    description
    ... on PathMetadataEntry {
      path
    }
    ... on NotebookMetadataEntry {
      path
    }
    ... on JsonMetadataEntry {
      jsonString
    }
    ... on UrlMetadataEntry {
      url
    }
    ... on TextMetadataEntry {
      text
    }
    ... on MarkdownMetadataEntry {
      mdStr
    }
    ... on PythonArtifactMetadataEntry {
      module
      name
    }
    ... on FloatMetadataEntry {
      floatValue
    }
    ... on TimestampMetadataEntry {
      timestamp
    }
    ... on IntMetadataEntry {
      intValue
      intRepr
    }
    ... on BoolMetadataEntry {
      boolValue
    }
    ... on PipelineRunMetadataEntry {
      runId
    }
    ... on AssetMetadataEntry {
      assetKey {
        path
      }
    }
    ... on JobMetadataEntry {
      jobName
      repositoryName
      locationName
    }
    ... on TableColumnLineageMetadataEntry {
      lineage {
        columnName
        columnDeps {
          assetKey {
            path
          }
          columnName
        }
      }
    }
    ... on TableMetadataEntry {
      ...TableMetadataEntryFragment
    }
    ... on TableSchemaMetadataEntry {
      ...TableSchemaForMetadataEntry
    }
    ... on CodeReferencesMetadataEntry {
      codeReferences {
        __typename
        ... on LocalFileCodeReference {
          filePath
          lineNumber
          label
        }
        ... on UrlCodeReference {
          url
          label
        }
      }
    }
    ... on PoolMetadataEntry {
      pool
    }
  }
fragment ReportCheckEvaluationAssetNodeFragment on AssetNode {
    id
    hasReportRunlessAssetEventPermission
  }
fragment TableMetadataEntryFragment on TableMetadataEntry {
    label
    table {
      records
      schema {
        ...TableSchemaFragment
      }
    }
  }
fragment TableSchemaForMetadataEntry on TableSchemaMetadataEntry {
    schema {
      ...TableSchemaFragment
    }
  }
fragment TableSchemaFragment on TableSchema {
    columns {
      name
      description
      type
      tags {
        key
        value
      }
      constraints {
        ...ConstraintsForTableColumn
      }
    }
    constraints {
      other
    }
  }
"""

# ui-core/src/assets/asset-checks/useAssetCheckPartitionData.tsx
ASSET_CHECK_PARTITION_HEALTH_QUERY = """
query AssetCheckPartitionHealthQuery($assetKey: AssetKeyInput!, $checkName: String!) {
    assetNodeOrError(assetKey: $assetKey) {
      ... on AssetNode {
        id
        assetCheckOrError(checkName: $checkName) {
          ... on AssetCheck {
            name
            partitionKeysByDimension {
              name
              type
              partitionKeys
            }
            partitionStatuses {
              ... on AssetCheckDefaultPartitionStatuses {
                succeededPartitions
                failedPartitions
                inProgressPartitions
                skippedPartitions
                executionFailedPartitions
              }
              ... on AssetCheckTimePartitionStatuses {
                ranges {
                  startTime
                  endTime
                  startKey
                  endKey
                  status
                }
              }
              ... on AssetCheckMultiPartitionStatuses {
                primaryDimensionName
                ranges {
                  primaryDimStartKey
                  primaryDimEndKey
                  primaryDimStartTime
                  primaryDimEndTime
                  secondaryDim {
                    ... on AssetCheckTimePartitionStatuses {
                      ranges {
                        startTime
                        endTime
                        startKey
                        endKey
                        status
                      }
                    }
                    ... on AssetCheckDefaultPartitionStatuses {
                      succeededPartitions
                      failedPartitions
                      inProgressPartitions
                      skippedPartitions
                      executionFailedPartitions
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }

"""

# ui-core/src/assets/asset-checks/AssetCheckDetailDialog.tsx
ASSET_CHECK_DETAILS_QUERY = """
query AssetCheckDetailsQuery(
    $assetKey: AssetKeyInput!
    $checkName: String!
    $limit: Int!
    $cursor: String
  ) {
    assetCheckExecutions(
      assetKey: $assetKey
      checkName: $checkName
      limit: $limit
      cursor: $cursor
    ) {
      id
      ...AssetCheckExecutionFragment
    }
  }
fragment AssetCheckEvaluationTargetMaterializationFragment on AssetCheckEvaluationTargetMaterializationData {
    timestamp
    runId
  }
fragment AssetCheckExecutionFragment on AssetCheckExecution {
    id
    runId
    status
    stepKey
    timestamp
    run {
      id
      status
    }
    evaluation {
      severity
      timestamp
      description
      targetMaterialization {
        ...AssetCheckEvaluationTargetMaterializationFragment
      }
      metadataEntries {
        ...MetadataEntryFragment
      }
      partition
    }
  }
fragment ConstraintsForTableColumn on TableColumnConstraints {
    nullable
    unique
    other
  }
fragment MetadataEntryFragment on MetadataEntry {
    label
    description
    ... on PathMetadataEntry {
      path
    }
    ... on NotebookMetadataEntry {
      path
    }
    ... on JsonMetadataEntry {
      jsonString
    }
    ... on UrlMetadataEntry {
      url
    }
    ... on TextMetadataEntry {
      text
    }
    ... on MarkdownMetadataEntry {
      mdStr
    }
    ... on PythonArtifactMetadataEntry {
      module
      name
    }
    ... on FloatMetadataEntry {
      floatValue
    }
    ... on TimestampMetadataEntry {
      timestamp
    }
    ... on IntMetadataEntry {
      intValue
      intRepr
    }
    ... on BoolMetadataEntry {
      boolValue
    }
    ... on PipelineRunMetadataEntry {
      runId
    }
    ... on AssetMetadataEntry {
      assetKey {
        path
      }
    }
    ... on JobMetadataEntry {
      jobName
      repositoryName
      locationName
    }
    ... on TableColumnLineageMetadataEntry {
      lineage {
        columnName
        columnDeps {
          assetKey {
            path
          }
          columnName
        }
      }
    }
    ... on TableMetadataEntry {
      ...TableMetadataEntryFragment
    }
    ... on TableSchemaMetadataEntry {
      ...TableSchemaForMetadataEntry
    }
    ... on CodeReferencesMetadataEntry {
      codeReferences {
        __typename
        ... on LocalFileCodeReference {
          filePath
          lineNumber
          label
        }
        ... on UrlCodeReference {
          url
          label
        }
      }
    }
    ... on PoolMetadataEntry {
      pool
    }
  }
fragment TableMetadataEntryFragment on TableMetadataEntry {
    label
    table {
      records
      schema {
        ...TableSchemaFragment
      }
    }
  }
fragment TableSchemaForMetadataEntry on TableSchemaMetadataEntry {
    schema {
      ...TableSchemaFragment
    }
  }
fragment TableSchemaFragment on TableSchema {
    columns {
      name
      description
      type
      tags {
        key
        value
      }
      constraints {
        ...ConstraintsForTableColumn
      }
    }
    constraints {
      other
    }
  }
"""

# ui-core/src/asset-data/AssetBaseDataProvider.tsx
ASSET_GRAPH_LIVE_QUERY = """
query AssetGraphLiveQuery($assetKeys: [AssetKeyInput!]!) {
    assetNodes(assetKeys: $assetKeys, loadMaterializations: true) {
      id
      ...AssetNodeLiveFragment
    }
    assetsLatestInfo(assetKeys: $assetKeys) {
      id
      ...AssetLatestInfoFragment
    }
  }
fragment AssetCheckLiveFragment on AssetCheck {
    name
    canExecuteIndividually
    executionForLatestMaterialization {
      id
      runId
      status
      timestamp
      stepKey
      evaluation {
        severity
      }
    }
    partitionDefinition {
      name
      description
    }
    partitionStatuses {
      ... on AssetCheckDefaultPartitionStatuses {
        succeededPartitions
        failedPartitions
        inProgressPartitions
        skippedPartitions
        executionFailedPartitions
      }
      ... on AssetCheckTimePartitionStatuses {
        ranges {
          startKey
          endKey
          status
        }
      }
      ... on AssetCheckMultiPartitionStatuses {
        primaryDimensionName
        ranges {
          primaryDimStartKey
          primaryDimEndKey
          secondaryDim {
            ... on AssetCheckDefaultPartitionStatuses {
              succeededPartitions
              failedPartitions
              inProgressPartitions
              skippedPartitions
              executionFailedPartitions
            }
            ... on AssetCheckTimePartitionStatuses {
              ranges {
                startKey
                endKey
                status
              }
            }
          }
        }
      }
    }
  }
fragment AssetLatestInfoFragment on AssetLatestInfo {
    id
    assetKey {
      path
    }
    unstartedRunIds
    inProgressRunIds
    latestRun {
      id
      ...AssetLatestInfoRun
    }
  }
fragment AssetLatestInfoRun on Run {
    status
    startTime
    endTime
    id
  }
fragment AssetNodeLiveFragment on AssetNode {
    id
    opNames
    repository {
      id
    }
    assetKey {
      path
    }
    assetMaterializations(limit: 1) {
      ...AssetNodeLiveMaterialization
    }
    assetObservations(limit: 1) {
      ...AssetNodeLiveObservation
    }
    assetChecksOrError {
      ... on AssetChecks {
        checks {
          ...AssetCheckLiveFragment
        }
      }
    }
    partitionStats {
      numMaterialized
      numMaterializing
      numPartitions
      numFailed
    }
  }
fragment AssetNodeLiveMaterialization on MaterializationEvent {
    timestamp
    runId
    stepKey
  }
fragment AssetNodeLiveObservation on ObservationEvent {
    timestamp
    runId
    stepKey
  }
"""

# ui-core/src/assets/useRecentAssetEvents.tsx
LATEST_ASSET_PARTITIONS_QUERY = """
query LatestAssetPartitionsQuery($assetKey: AssetKeyInput!, $limit: Int!) {
    assetNodeOrError(assetKey: $assetKey) {
      ... on AssetNode {
        id
        partitionKeyConnection(limit: $limit, ascending: false) {
          results
        }
      }
    }
  }

"""

# ui-core/src/assets/useRecentAssetEvents.tsx
ASSET_PARTITION_EVENTS_QUERY = """
query AssetPartitionEventsQuery($assetKey: AssetKeyInput!, $partitions: [String!]!) {
    assetNodeOrError(assetKey: $assetKey) {
      ... on AssetNode {
        id
        latestMaterializationByPartition(partitions: $partitions) {
          ...AssetSuccessfulMaterializationFragment
        }
      }
    }
  }
fragment AssetLineageFragment on AssetLineageInfo {
    assetKey {
      path
    }
    partitions
  }
fragment AssetSuccessfulMaterializationFragment on MaterializationEvent {
    partition
    tags {
      key
      value
    }
    runOrError {
      ... on PipelineRun {
        id
        mode
        repositoryOrigin {
          id
          repositoryName
          repositoryLocationName
        }
        status
        pipelineName
        pipelineSnapshotId
      }
    }
    runId
    timestamp
    stepKey
    label
    description
    metadataEntries {
      ...MetadataEntryFragment
    }
    assetLineage {
      ...AssetLineageFragment
    }
  }
fragment ConstraintsForTableColumn on TableColumnConstraints {
    nullable
    unique
    other
  }
fragment MetadataEntryFragment on MetadataEntry {
    label
    description
    ... on PathMetadataEntry {
      path
    }
    ... on NotebookMetadataEntry {
      path
    }
    ... on JsonMetadataEntry {
      jsonString
    }
    ... on UrlMetadataEntry {
      url
    }
    ... on TextMetadataEntry {
      text
    }
    ... on MarkdownMetadataEntry {
      mdStr
    }
    ... on PythonArtifactMetadataEntry {
      module
      name
    }
    ... on FloatMetadataEntry {
      floatValue
    }
    ... on TimestampMetadataEntry {
      timestamp
    }
    ... on IntMetadataEntry {
      intValue
      intRepr
    }
    ... on BoolMetadataEntry {
      boolValue
    }
    ... on PipelineRunMetadataEntry {
      runId
    }
    ... on AssetMetadataEntry {
      assetKey {
        path
      }
    }
    ... on JobMetadataEntry {
      jobName
      repositoryName
      locationName
    }
    ... on TableColumnLineageMetadataEntry {
      lineage {
        columnName
        columnDeps {
          assetKey {
            path
          }
          columnName
        }
      }
    }
    ... on TableMetadataEntry {
      ...TableMetadataEntryFragment
    }
    ... on TableSchemaMetadataEntry {
      ...TableSchemaForMetadataEntry
    }
    ... on CodeReferencesMetadataEntry {
      codeReferences {
        __typename
        ... on LocalFileCodeReference {
          filePath
          lineNumber
          label
        }
        ... on UrlCodeReference {
          url
          label
        }
      }
    }
    ... on PoolMetadataEntry {
      pool
    }
  }
fragment TableMetadataEntryFragment on TableMetadataEntry {
    label
    table {
      records
      schema {
        ...TableSchemaFragment
      }
    }
  }
fragment TableSchemaForMetadataEntry on TableSchemaMetadataEntry {
    schema {
      ...TableSchemaFragment
    }
  }
fragment TableSchemaFragment on TableSchema {
    columns {
      name
      description
      type
      tags {
        key
        value
      }
      constraints {
        ...ConstraintsForTableColumn
      }
    }
    constraints {
      other
    }
  }
"""

QUERIES = {
    "PartitionHealthQuery": PARTITION_HEALTH_QUERY,
    "AssetChecksQuery": ASSET_CHECKS_QUERY,
    "AssetCheckPartitionHealthQuery": ASSET_CHECK_PARTITION_HEALTH_QUERY,
    "AssetCheckDetailsQuery": ASSET_CHECK_DETAILS_QUERY,
    "AssetGraphLiveQuery": ASSET_GRAPH_LIVE_QUERY,
    "LatestAssetPartitionsQuery": LATEST_ASSET_PARTITIONS_QUERY,
    "AssetPartitionEventsQuery": ASSET_PARTITION_EVENTS_QUERY,
}


def _block(text: str, start: int) -> str:
    """``text[start:]`` up to the brace closing the first ``{`` after ``start``."""
    depth = 0
    for k in range(text.index("{", start), len(text)):
        depth += {"{": 1, "}": -1}.get(text[k], 0)
        if depth == 0:
            return text[start:k + 1]
    raise ValueError("unbalanced braces")


def extract_from_webapp() -> dict[str, str]:
    """The documents of :data:`QUERIES` as the installed ``dagster-webserver``'s web app has them: every
    ``gql`` template of its source maps, each named query followed by the fragments it spreads
    (transitively, sorted by name)."""
    import dagster_webserver

    chunks = Path(dagster_webserver.__file__).parent / "webapp" / "build" / "_next" / "static" / "chunks"
    fragments: dict[str, str] = {}
    queries: dict[str, str] = {}
    for path in sorted(glob.glob(str(chunks / "*.js.map"))):
        source_map = json.loads(Path(path).read_text())
        for content in source_map.get("sourcesContent") or []:
            if not content or "gql`" not in content:
                continue
            for template in re.finditer(r"gql`(.*?)`", content, re.S):
                body = re.sub(r"\$\{[A-Z_]+\}", "", template.group(1))
                for m in re.finditer(r"fragment (\w+) on \w+ \{", body):
                    fragments.setdefault(m.group(1), _block(body, m.start()))
                for m in re.finditer(r"query (\w+)[^{]*\{", body):
                    queries.setdefault(m.group(1), _block(body, m.start()))
    out = {}
    for name in QUERIES:
        doc = queries[name]
        needed: list[str] = []
        todo = re.findall(r"\.\.\.(\w+)", doc)
        while todo:
            frag = todo.pop()
            if frag not in needed:
                needed.append(frag)
                todo += re.findall(r"\.\.\.(\w+)", fragments[frag])
        out[name] = doc + "\n" + "\n".join(fragments[f] for f in sorted(needed))
    return out


if __name__ == "__main__":
    current = extract_from_webapp()
    stale = [n for n, doc in QUERIES.items() if current[n].strip() != doc.strip()]
    for name in stale:
        print(f"{name} differs from the installed web app's:\n{current[name]}\n")
    print("stale: " + ", ".join(stale) if stale else f"all {len(QUERIES)} queries match the installed web app")
    sys.exit(1 if stale else 0)
