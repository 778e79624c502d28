# ---------------------------------------------------------------------------------------------
# Parameter documents: read once, at plan time, checked against the JSON Schemas, and handed on
# as typed values (the components' inputs, the rendered workflows, the published SSM copy).
#
# What Terraform can check it checks here, so that a bad file fails `terraform plan` with a
# message that names the file, the field's JSON path and the rule. The JSON Schemas in
# lambda_src/ are the one definition of valid input: the walk below reads every keyword from
# them (required fields, types, enums, patterns, bounds, lengths, SageMaker's name limits), and
# the rules that span fields are written out after it. The workflow's first state validates
# everything again, completely (docs/architecture.md lists what only it can check, and why).
# ---------------------------------------------------------------------------------------------

locals {
  schema_dir = "${path.module}/lambda_src/tuning_workflow/schemas"
  schemas = {
    "ml-parameters"   = jsondecode(file("${local.schema_dir}/ml-parameters.schema.json"))
    "hyperparameters" = jsondecode(file("${local.schema_dir}/hyperparameters.schema.json"))
  }
  ml_parameter_schema   = local.schemas["ml-parameters"]
  hyperparameter_schema = local.schemas["hyperparameters"]

  # The variables' validations report a missing file or invalid JSON; these fallbacks keep
  # every other expression quiet meanwhile.
  ml_parameters   = try(jsondecode(file(var.ml_parameters_file)), {})
  hyperparameters = try(jsondecode(file(var.hyperparameters_file)), {})

  documents = {
    "ml-parameters"   = local.ml_parameters
    "hyperparameters" = local.hyperparameters
  }
  document_files = {
    "ml-parameters"   = var.ml_parameters_file
    "hyperparameters" = var.hyperparameters_file
  }

  # SageMaker's name limits and the run suffix, from the schema (x-sagemakerNames): a run names
  # its tuning job, model and endpoint configs <base>-<runId>, so a base name may be at most
  # SageMaker's limit minus the suffix ("-" and the run id's hex digits). Each name field says
  # which names it becomes; its limit is the tightest of them.
  sagemaker_names   = local.ml_parameter_schema["x-sagemakerNames"]
  run_suffix_length = 1 + local.sagemaker_names.runIdLength
  # IAM's wildcard for a run id: one "?" per hex digit.
  run_id_wildcard = join("", [for digit in range(local.sagemaker_names.runIdLength) : "?"])

  # JSON kinds, from the first character of a value's JSON encoding.
  json_kinds = { "{" = "object", "[" = "array", "\"" = "string", "t" = "boolean", "f" = "boolean", "n" = "null" }
  identifier = "^[A-Za-z_][A-Za-z0-9_]*$"
  # The largest finite IEEE 754 double: the workflow reads every number as one.
  largest_double = tonumber("1.7976931348623157e+308")
}

# ---------------------------------------------------------------------------------------------
# The walk: every value of both documents with the schema that describes it. HCL has no
# recursion, so the walk goes level by level; five levels reach every field the schemas define
# (hyperparameters: $.parameterRanges.IntegerParameterRanges[0].MinValue). A node's schema has
# its $ref resolved (the node's own keywords win over the definition's).
# ---------------------------------------------------------------------------------------------

locals {
  walk_0 = [
    for doc, value in local.documents : { doc = doc, path = "$", value = value, schema = local.schemas[doc] }
  ]
  walk_1 = flatten([
    for node in local.walk_0 : concat(
      [
        for key in try(keys(node.value), []) : {
          doc    = node.doc
          path   = length(regexall(local.identifier, key)) > 0 ? "${node.path}.${key}" : "${node.path}['${key}']"
          value  = node.value[key]
          schema = merge(try(local.schemas[node.doc]["$defs"][trimprefix(try(node.schema.properties[key], node.schema.additionalProperties)["$ref"], "#/$defs/")], {}), try(node.schema.properties[key], node.schema.additionalProperties))
        } if can(keys(try(node.schema.properties[key], node.schema.additionalProperties)))
      ],
      [
        for index in try(range(length(node.value)), []) : {
          doc    = node.doc
          path   = "${node.path}[${index}]"
          value  = node.value[index]
          schema = merge(try(local.schemas[node.doc]["$defs"][trimprefix(node.schema.items["$ref"], "#/$defs/")], {}), node.schema.items)
        } if substr(jsonencode(node.value), 0, 1) == "[" && can(keys(node.schema.items))
      ],
    )
  ])
  walk_2 = flatten([
    for node in local.walk_1 : concat(
      [
        for key in try(keys(node.value), []) : {
          doc    = node.doc
          path   = length(regexall(local.identifier, key)) > 0 ? "${node.path}.${key}" : "${node.path}['${key}']"
          value  = node.value[key]
          schema = merge(try(local.schemas[node.doc]["$defs"][trimprefix(try(node.schema.properties[key], node.schema.additionalProperties)["$ref"], "#/$defs/")], {}), try(node.schema.properties[key], node.schema.additionalProperties))
        } if can(keys(try(node.schema.properties[key], node.schema.additionalProperties)))
      ],
      [
        for index in try(range(length(node.value)), []) : {
          doc    = node.doc
          path   = "${node.path}[${index}]"
          value  = node.value[index]
          schema = merge(try(local.schemas[node.doc]["$defs"][trimprefix(node.schema.items["$ref"], "#/$defs/")], {}), node.schema.items)
        } if substr(jsonencode(node.value), 0, 1) == "[" && can(keys(node.schema.items))
      ],
    )
  ])
  walk_3 = flatten([
    for node in local.walk_2 : concat(
      [
        for key in try(keys(node.value), []) : {
          doc    = node.doc
          path   = length(regexall(local.identifier, key)) > 0 ? "${node.path}.${key}" : "${node.path}['${key}']"
          value  = node.value[key]
          schema = merge(try(local.schemas[node.doc]["$defs"][trimprefix(try(node.schema.properties[key], node.schema.additionalProperties)["$ref"], "#/$defs/")], {}), try(node.schema.properties[key], node.schema.additionalProperties))
        } if can(keys(try(node.schema.properties[key], node.schema.additionalProperties)))
      ],
      [
        for index in try(range(length(node.value)), []) : {
          doc    = node.doc
          path   = "${node.path}[${index}]"
          value  = node.value[index]
          schema = merge(try(local.schemas[node.doc]["$defs"][trimprefix(node.schema.items["$ref"], "#/$defs/")], {}), node.schema.items)
        } if substr(jsonencode(node.value), 0, 1) == "[" && can(keys(node.schema.items))
      ],
    )
  ])
  walk_4 = flatten([
    for node in local.walk_3 : concat(
      [
        for key in try(keys(node.value), []) : {
          doc    = node.doc
          path   = length(regexall(local.identifier, key)) > 0 ? "${node.path}.${key}" : "${node.path}['${key}']"
          value  = node.value[key]
          schema = merge(try(local.schemas[node.doc]["$defs"][trimprefix(try(node.schema.properties[key], node.schema.additionalProperties)["$ref"], "#/$defs/")], {}), try(node.schema.properties[key], node.schema.additionalProperties))
        } if can(keys(try(node.schema.properties[key], node.schema.additionalProperties)))
      ],
      [
        for index in try(range(length(node.value)), []) : {
          doc    = node.doc
          path   = "${node.path}[${index}]"
          value  = node.value[index]
          schema = merge(try(local.schemas[node.doc]["$defs"][trimprefix(node.schema.items["$ref"], "#/$defs/")], {}), node.schema.items)
        } if substr(jsonencode(node.value), 0, 1) == "[" && can(keys(node.schema.items))
      ],
    )
  ])
  walk_5 = flatten([
    for node in local.walk_4 : concat(
      [
        for key in try(keys(node.value), []) : {
          doc    = node.doc
          path   = length(regexall(local.identifier, key)) > 0 ? "${node.path}.${key}" : "${node.path}['${key}']"
          value  = node.value[key]
          schema = merge(try(local.schemas[node.doc]["$defs"][trimprefix(try(node.schema.properties[key], node.schema.additionalProperties)["$ref"], "#/$defs/")], {}), try(node.schema.properties[key], node.schema.additionalProperties))
        } if can(keys(try(node.schema.properties[key], node.schema.additionalProperties)))
      ],
      [
        for index in try(range(length(node.value)), []) : {
          doc    = node.doc
          path   = "${node.path}[${index}]"
          value  = node.value[index]
          schema = merge(try(local.schemas[node.doc]["$defs"][trimprefix(node.schema.items["$ref"], "#/$defs/")], {}), node.schema.items)
        } if substr(jsonencode(node.value), 0, 1) == "[" && can(keys(node.schema.items))
      ],
    )
  ])

  # Each node with what the checks need: its JSON kind, how it is shown in a message, the
  # alternatives its schema allows (anyOf, or the schema itself), and its name limit when it
  # becomes a SageMaker name.
  nodes = [
    for node in concat(local.walk_0, local.walk_1, local.walk_2, local.walk_3, local.walk_4, local.walk_5) : merge(node, {
      kind = lookup(local.json_kinds, substr(jsonencode(node.value), 0, 1), "number")
      # JSON, without the escapes jsonencode gives <, > and &.
      shown = (
        length(jsonencode(node.value)) > 60
        ? "${substr(replace(replace(replace(jsonencode(node.value), "\\u003c", "<"), "\\u003e", ">"), "\\u0026", "&"), 0, 57)}..."
        : replace(replace(replace(jsonencode(node.value), "\\u003c", "<"), "\\u003e", ">"), "\\u0026", "&")
      )
      alternatives = [
        for alternative in try(node.schema.anyOf, [node.schema]) : {
          type    = try(tostring(alternative.type), "any")
          pattern = try(tostring(alternative.pattern), null)
          minimum = try(tonumber(alternative.minimum), null)
        }
      ]
      name_limits = [
        for use in try(node.schema["x-sagemakerNames"], []) : {
          max = local.sagemaker_names.resources[use.resource].maxLength - (use.runSuffix ? local.run_suffix_length : 0)
          why = (
            use.runSuffix
            ? "a run names its ${local.sagemaker_names.resources[use.resource].noun} '<name>-<runId>', ${local.run_suffix_length} characters more, and SageMaker allows ${local.sagemaker_names.resources[use.resource].maxLength}"
            : "SageMaker allows ${local.sagemaker_names.resources[use.resource].maxLength} in a ${local.sagemaker_names.resources[use.resource].noun} name"
          )
        } if can(use.resource)
      ]
    })
  ]
}

# ---------------------------------------------------------------------------------------------
# The schema's keywords, node by node. A value of the wrong form (type, or pattern, of every
# alternative) is reported once, with the schema's own errorMessage; the other keywords are
# checked on values of the right form. Numbers may be written as strings ("1", "0.8"): bounds
# hold for them too, as in tuning_workflow.validation.
# ---------------------------------------------------------------------------------------------

locals {
  checked_nodes = [
    for node in local.nodes : merge(node, {
      # An alternative matches when the type, the pattern (a pattern RE2 cannot compile is left
      # to the workflow) and its own minimum hold.
      form_ok = anytrue([
        for alternative in node.alternatives : (
          (alternative.type == "any" || alternative.type == node.kind || (alternative.type == "integer" && node.kind == "number" && try(floor(node.value) == node.value, false)))
          && (alternative.pattern == null || node.kind != "string" || !can(regexall(coalesce(alternative.pattern, "-"), "")) || length(try(regexall(coalesce(alternative.pattern, "-"), node.value), [])) > 0)
          && (alternative.minimum == null || try(tonumber(node.value) >= alternative.minimum, false))
        )
      ])
      number = try(tonumber(node.value), null)
      length = node.kind == "string" ? length(node.value) : null
      # A numeric string longer than its maxLength is reported for its length only.
      bounded    = try(tonumber(node.value), null) != null && try(length(node.value) <= tonumber(node.schema.maxLength), true)
      max_length = length(node.name_limits) > 0 ? min([for limit in node.name_limits : limit.max]...) : try(tonumber(node.schema.maxLength), null)
    })
  ]

  keyword_problems = flatten([
    for node in local.checked_nodes : [
      for problem in(
        !node.form_ok ? [
          try(
            "${node.schema.errorMessage}, got ${node.shown}",
            "expected ${join(" or ", distinct([for alternative in node.alternatives : alternative.pattern == null ? "a value of type ${alternative.type}" : "a ${alternative.type} matching ${alternative.pattern}"]))}, got ${node.kind} ${node.shown}",
          )
          ] : concat(
          # enum
          can(node.schema.enum) && !try(contains(node.schema.enum, node.value), false) ? [
            "${node.shown} is not one of ${join(", ", [for choice in node.schema.enum : tostring(choice)])}"
          ] : [],
          # minimum and maximum (numbers, and numbers written as strings not over maxLength)
          node.bounded && try(node.number < node.schema.minimum, false) ? [
            "${node.shown} is less than the minimum, ${node.schema.minimum}"
          ] : [],
          node.bounded && try(node.number > node.schema.maximum, false) ? [
            "${node.shown} is greater than the maximum, ${node.schema.maximum}"
          ] : [],
          # "finite-number": what a double holds (Terraform's own numbers have no such limit)
          try(node.schema.format == "finite-number" && abs(node.number) > local.largest_double, false) ? [
            "${node.shown} is not a finite number; numbers are at most ${format("%.4g", local.largest_double)} in magnitude"
          ] : [],
          # string lengths; a name's maximum is SageMaker's limit minus the run suffix
          node.length != null && node.max_length != null && try(node.length > node.max_length, false) ? [
            "${node.shown} is ${node.length} characters long; at most ${node.max_length} are allowed${length(node.name_limits) > 0 ? ": ${[for limit in node.name_limits : limit.why if limit.max == node.max_length][0]} (x-sagemakerNames in ml-parameters.schema.json)" : ""}"
          ] : [],
          node.length != null && try(node.length < node.schema.minLength, false) ? ["must not be empty"] : [],
          # arrays
          node.kind == "array" && try(length(node.value) < node.schema.minItems, false) ? [
            "needs at least ${node.schema.minItems} item(s), got ${length(node.value)}"
          ] : [],
          node.kind == "array" && try(length(node.value) > node.schema.maxItems, false) ? [
            "has ${length(node.value)} items; at most ${node.schema.maxItems} are allowed"
          ] : [],
          node.kind == "array" && try(node.schema.uniqueItems, false) && try(length(distinct([for item in node.value : jsonencode(item)])) < length(node.value), false) ? [
            "lists an item more than once"
          ] : [],
          # objects: required and unknown keys, sizes, key names
          node.kind == "object" ? [
            # (said of the field itself: a problem that begins ".key" or "['key']" extends the
            # node's path)
            for key in try(node.schema.required, []) : "${length(regexall(local.identifier, key)) > 0 ? ".${key}" : "['${key}']"}: is required"
            if !can(node.value[key])
          ] : [],
          node.kind == "object" && try(node.schema.additionalProperties == false, false) ? [
            for key in keys(node.value) : "${length(regexall(local.identifier, key)) > 0 ? ".${key}" : "['${key}']"}: unknown key; expected one of ${join(", ", keys(node.schema.properties))}"
            if !contains(keys(node.schema.properties), key)
          ] : [],
          node.kind == "object" && try(length(node.value) < node.schema.minProperties, false) ? ["must not be empty"] : [],
          node.kind == "object" && try(length(node.value) > node.schema.maxProperties, false) ? [
            "has ${length(node.value)} entries; at most ${node.schema.maxProperties} are allowed"
          ] : [],
          node.kind == "object" && can(node.schema.propertyNames.maxLength) ? [
            for key in keys(node.value) : "the key '${key}' is longer than ${node.schema.propertyNames.maxLength} characters"
            if length(key) > node.schema.propertyNames.maxLength
          ] : [],
          node.kind == "object" && can(regexall(node.schema.propertyNames.pattern, "")) ? [
            for key in keys(node.value) : "the key '${key}': ${try(node.schema.propertyNames.errorMessage, "does not match ${node.schema.propertyNames.pattern}")}"
            if length(regexall(node.schema.propertyNames.pattern, key)) == 0
          ] : [],
        )
      ) : { doc = node.doc, text = startswith(problem, ".") || startswith(problem, "['") ? "${node.path}${problem}" : "${node.path}: ${problem}" }
    ]
  ])
}

# ---------------------------------------------------------------------------------------------
# Rules that span fields (tuning_workflow.validation has each of them too). Values are read
# with try(): a field of the wrong form is reported above and skipped here.
# ---------------------------------------------------------------------------------------------

locals {
  ml   = local.ml_parameters
  hp   = local.hyperparameters
  hp_x = local.hyperparameter_schema["x-limits"]

  ml_numbers = {
    for key in [
      "maxParallelTrainingJobs", "maxNumberOfTrainingJobs", "autoscalingMinCapacity", "autoscalingMaxCapacity",
      "maxRuntimeInSeconds", "maxWaitTimeInSeconds", "endpointWaitIntervalSeconds", "endpointWaitTimeoutSeconds",
    ] : key => try(tonumber(local.ml[key]), null)
  }
  spot_training = try(lower(tostring(local.ml.enableManagedSpotTraining)) == "true", false)
  initial_count = try(tonumber(local.ml.model.hosting.initialInstanceCount), null)
  not_improving = try(tonumber(local.ml.completionCriteria.maxNumberOfTrainingJobsNotImproving), null)
  strategy      = try(tostring(local.ml.tuningStrategy), null)
  wait_interval = coalesce(local.ml_numbers.endpointWaitIntervalSeconds, local.ml_parameter_schema.properties.endpointWaitIntervalSeconds.default)
  wait_timeout  = coalesce(local.ml_numbers.endpointWaitTimeoutSeconds, local.ml_parameter_schema.properties.endpointWaitTimeoutSeconds.default)
  max_runtime   = coalesce(local.ml_numbers.maxRuntimeInSeconds, local.ml_parameter_schema.properties.maxRuntimeInSeconds.default)
  both_or_neither = [
    { parent = "$.model", object = try(local.ml.model, {}), keys = ["trainingSubnets", "trainingSecurityGroupIds"] },
    { parent = "$.model.hosting", object = try(local.ml.model.hosting, {}), keys = ["subnets", "securityGroupIds"] },
    { parent = "$", object = local.ml, keys = ["autoscalingMinCapacity", "autoscalingMaxCapacity"] },
  ]

  ml_rule_problems = concat(
    # min <= max pairs and counts that bound each other
    try(local.ml_numbers.maxParallelTrainingJobs > local.ml_numbers.maxNumberOfTrainingJobs, false) ? [
      "$.maxParallelTrainingJobs: ${local.ml_numbers.maxParallelTrainingJobs} is greater than maxNumberOfTrainingJobs (${local.ml_numbers.maxNumberOfTrainingJobs})"
    ] : [],
    try(local.ml_numbers.autoscalingMinCapacity > local.ml_numbers.autoscalingMaxCapacity, false) ? [
      "$.autoscalingMinCapacity: ${local.ml_numbers.autoscalingMinCapacity} is greater than autoscalingMaxCapacity (${local.ml_numbers.autoscalingMaxCapacity})"
    ] : [],
    try(local.ml_numbers.autoscalingMinCapacity <= local.ml_numbers.autoscalingMaxCapacity && (local.initial_count < local.ml_numbers.autoscalingMinCapacity || local.initial_count > local.ml_numbers.autoscalingMaxCapacity), false) ? [
      "$.model.hosting.initialInstanceCount: ${local.initial_count} is outside the auto scaling range ${local.ml_numbers.autoscalingMinCapacity} to ${local.ml_numbers.autoscalingMaxCapacity}"
    ] : [],
    try(tonumber(local.ml.hyperbandStrategyConfig.minResource) > tonumber(local.ml.hyperbandStrategyConfig.maxResource), false) ? [
      "$.hyperbandStrategyConfig.minResource: ${local.ml.hyperbandStrategyConfig.minResource} is greater than maxResource (${local.ml.hyperbandStrategyConfig.maxResource})"
    ] : [],
    try(local.not_improving > local.ml_numbers.maxNumberOfTrainingJobs, false) ? [
      "$.completionCriteria.maxNumberOfTrainingJobsNotImproving: ${local.not_improving} is greater than maxNumberOfTrainingJobs (${local.ml_numbers.maxNumberOfTrainingJobs}), so it could never end the tuning job"
    ] : [],
    local.spot_training && try(local.ml_numbers.maxWaitTimeInSeconds < local.max_runtime, false) ? [
      "$.maxWaitTimeInSeconds: ${local.ml_numbers.maxWaitTimeInSeconds} is less than maxRuntimeInSeconds (${local.max_runtime}); managed spot training needs maxWaitTimeInSeconds >= maxRuntimeInSeconds"
    ] : [],
    try(local.wait_timeout < local.wait_interval, false) ? [
      "$.endpointWaitTimeoutSeconds: ${local.wait_timeout} is shorter than endpointWaitIntervalSeconds (${local.wait_interval})"
    ] : [],
    try(local.wait_timeout >= local.wait_interval && floor(local.wait_timeout / local.wait_interval) > local.ml_parameter_schema.properties.endpointWaitTimeoutSeconds["x-maxChecks"], false) ? [
      "$.endpointWaitIntervalSeconds: checking every ${local.wait_interval} s for ${local.wait_timeout} s makes ${floor(local.wait_timeout / local.wait_interval)} checks; at most ${local.ml_parameter_schema.properties.endpointWaitTimeoutSeconds["x-maxChecks"]} fit in one execution's history (x-maxChecks), so check less often"
    ] : [],
    # fields that go together, or exclude each other
    flatten([
      for pair in local.both_or_neither : [
        for present in pair.keys : "${pair.parent}: '${[for key in pair.keys : key if key != present][0]}' is required when '${present}' is set (both or neither)"
        if can(pair.object[present]) && !can(pair.object[[for key in pair.keys : key if key != present][0]])
      ]
    ]),
    can(local.ml.algorithmARN) && can(local.ml.trainingImage) ? ["$.trainingImage: give either 'algorithmARN' or 'trainingImage', not both"] : [],
    can(keys(local.ml)) && !can(local.ml.algorithmARN) && !can(local.ml.trainingImage) ? ["$: 'algorithmARN' or 'trainingImage' is required"] : [],
    can(local.ml.algorithmARN) && can(local.ml.metricDefinitions) ? ["$.metricDefinitions: is only used with 'trainingImage'; an algorithm resource defines its own metrics"] : [],
    try(local.ml.inferenceImage != local.ml.model.hosting.inferenceImage, false) ? [
      "$.model.hosting.inferenceImage: \"${local.ml.model.hosting.inferenceImage}\" differs from inferenceImage (\"${local.ml.inferenceImage}\"); both name the model's inference image: give it once, or the same in both places"
    ] : [],
    # Parameter Store publishes the hyperparameters under <path>/hyperparameters.
    can(local.ml.hyperparameters) ? ["$.hyperparameters: is where the hyperparameters file is published in Parameter Store; ml-parameters cannot have a key of that name"] : [],
    local.spot_training && !can(local.ml.spotTrainingCheckpointS3Uri) ? ["$: 'spotTrainingCheckpointS3Uri' is required when enableManagedSpotTraining is true"] : [],
    (can(local.ml.autoscalingMinCapacity) || can(local.ml.autoscalingMaxCapacity)) && !can(local.ml.targetTrackingScalingPolicyConfiguration) ? [
      "$: 'targetTrackingScalingPolicyConfiguration' is required when auto scaling is configured (autoscalingMinCapacity and autoscalingMaxCapacity)"
    ] : [],
    can(keys(local.ml.targetTrackingScalingPolicyConfiguration)) && length([for key in ["PredefinedMetricSpecification", "CustomizedMetricSpecification"] : key if can(local.ml.targetTrackingScalingPolicyConfiguration[key])]) != 1 ? [
      "$.targetTrackingScalingPolicyConfiguration: give either 'PredefinedMetricSpecification' or 'CustomizedMetricSpecification' (exactly one)"
    ] : [],
    # the tuning strategy's own rules
    can(local.ml.hyperbandStrategyConfig) && local.strategy != null && local.strategy != "Hyperband" ? [
      "$.hyperbandStrategyConfig: is only used with tuningStrategy Hyperband, not ${coalesce(local.strategy, "-")}"
    ] : [],
    # Grid runs every combination of the categorical values, and SageMaker requires
    # MaxNumberOfTrainingJobs to equal their number (automatic-model-tuning-how-it-works.html,
    # Grid search). HCL has no product: 2 to the sum of the log2 of each count, rounded.
    local.strategy == "Grid" && length(local.grid_choices) > 0 && local.ml_numbers.maxNumberOfTrainingJobs != null && try(local.ml_numbers.maxNumberOfTrainingJobs != local.grid_combinations, false) ? [
      "$.maxNumberOfTrainingJobs: is ${local.ml_numbers.maxNumberOfTrainingJobs}, but tuningStrategy Grid runs every combination of the categorical values in hyperparameters' ranges, ${local.grid_combinations} here; SageMaker requires maxNumberOfTrainingJobs to equal that number: set it to ${local.grid_combinations}"
    ] : [],
    local.strategy == "Hyperband" && try(local.ml.trainingJobEarlyStoppingType == "Auto", false) ? [
      "$.trainingJobEarlyStoppingType: must be Off with tuningStrategy Hyperband, which stops training jobs early itself"
    ] : [],
    local.strategy == "Hyperband" && !can(local.ml.hyperbandStrategyConfig.maxResource) && length([for key in local.ml_parameter_schema.properties.hyperbandStrategyConfig["x-epochHyperparameters"] : key if can(local.hp.staticHyperParameters[key])]) == 0 ? [
      "$.hyperbandStrategyConfig: tuningStrategy Hyperband needs 'maxResource' here, or one of the static hyperparameters ${join(", ", local.ml_parameter_schema.properties.hyperbandStrategyConfig["x-epochHyperparameters"])} (in hyperparameters) to infer it"
    ] : [],
  )

  # Hyperparameter ranges: min <= max, scaling types that fit the range, names tuned once.
  numeric_range_kinds = ["IntegerParameterRanges", "ContinuousParameterRanges"]
  ranges = flatten([
    for kind in concat(local.numeric_range_kinds, ["CategoricalParameterRanges"]) : [
      for index in try(range(length(local.hp.parameterRanges[kind])), []) : {
        kind   = kind
        path   = "$.parameterRanges.${kind}[${index}]"
        name   = try(tostring(local.hp.parameterRanges[kind][index].Name), null)
        low    = try(tonumber(local.hp.parameterRanges[kind][index].MinValue), null)
        high   = try(tonumber(local.hp.parameterRanges[kind][index].MaxValue), null)
        scale  = try(tostring(local.hp.parameterRanges[kind][index].ScalingType), null)
        values = try([for value in local.hp.parameterRanges[kind][index].Values : jsonencode(value)], [])
        # As the workflow's validator counts them: "3" and 3 are the same choice.
        choices = try([for value in local.hp.parameterRanges[kind][index].Values : try(tostring(value), jsonencode(value))], [])
      } if try(substr(jsonencode(local.hp.parameterRanges[kind]), 0, 1) == "[", false)
    ]
  ])
  range_names = compact([for item in local.ranges : item.name])
  # The number of distinct values of each categorical range, and the combinations they make.
  grid_choices      = [for item in local.ranges : length(distinct(item.choices)) if item.kind == "CategoricalParameterRanges"]
  grid_combinations = length(local.grid_choices) == 0 || contains(local.grid_choices, 0) ? 0 : floor(pow(2, sum([for count in local.grid_choices : log(count, 2)])) + 0.5)

  static_keys = try(keys(local.hp.staticHyperParameters), [])

  hp_rule_problems = concat(
    flatten([
      for item in local.ranges : concat(
        try(item.low > item.high, false) ? ["${item.path}.MinValue: ${item.low} is greater than MaxValue (${item.high})"] : [],
        item.scale == "Logarithmic" && try(item.low <= 0, false) ? ["${item.path}.MinValue: Logarithmic scaling needs MinValue > 0, got ${item.low}"] : [],
        item.scale == "ReverseLogarithmic" && item.kind == "IntegerParameterRanges" ? ["${item.path}.ScalingType: ReverseLogarithmic scaling is only for continuous ranges"] : [],
        item.scale == "ReverseLogarithmic" && item.kind == "ContinuousParameterRanges" && (try(item.low < 0, false) || try(item.high >= 1, false)) ? ["${item.path}: ReverseLogarithmic scaling needs 0 <= MinValue <= MaxValue < 1"] : [],
        length(distinct(item.values)) < length(item.values) ? ["${item.path}.Values: lists a value more than once"] : [],
        item.name != null && length([for other in local.ranges : other if other.name == item.name]) > 1 && [for other in local.ranges : other.path if other.name == item.name][0] != item.path ? [
          "${item.path}.Name: '${coalesce(item.name, "-")}' is already tuned at ${[for other in local.ranges : other.path if other.name == item.name][0]}"
        ] : [],
      )
    ]),
    can(keys(local.hp.parameterRanges)) && length(local.ranges) == 0 ? ["$.parameterRanges: has no ranges; give at least one integer, continuous or categorical range to tune"] : [],
    length(local.ranges) > local.hp_x.maxTunedHyperparameters ? [
      "$.parameterRanges: has ${length(local.ranges)} ranges; a tuning job searches at most ${local.hp_x.maxTunedHyperparameters} hyperparameters (x-limits)"
    ] : [],
    length(local.static_keys) + length(local.ranges) > local.hp_x.maxHyperparameters ? [
      "$.staticHyperParameters: ${length(local.static_keys)} static and ${length(local.ranges)} tuned hyperparameters make ${length(local.static_keys) + length(local.ranges)}; SageMaker allows at most ${local.hp_x.maxHyperparameters} (x-limits)"
    ] : [],
    [
      for key in local.static_keys : "$.staticHyperParameters['${key}']: is also tuned; a hyperparameter is either static or tuned"
      if contains(local.range_names, key)
    ],
    # Grid searches categorical ranges only.
    local.strategy == "Grid" ? concat(
      [for kind in local.numeric_range_kinds : "$.parameterRanges.${kind}: tuningStrategy Grid (in ml-parameters) searches categorical ranges only" if length([for item in local.ranges : item if item.kind == kind]) > 0],
      length([for item in local.ranges : item if item.kind == "CategoricalParameterRanges"]) == 0 ? ["$.parameterRanges.CategoricalParameterRanges: tuningStrategy Grid (in ml-parameters) needs at least one categorical range"] : [],
    ) : [],
  )
}

# ---------------------------------------------------------------------------------------------
# Buckets: every S3 location in ml-parameters (the schema marks them: x-deploymentBucket) must
# be on s3_bucket or additional_s3_bucket_names, the only buckets the roles get.
# ---------------------------------------------------------------------------------------------

locals {
  data_bucket_names = distinct(concat([var.s3_bucket], var.additional_s3_bucket_names))

  s3_locations = [
    for node in local.checked_nodes : {
      path   = node.path
      uri    = node.value
      bucket = regex("^s3://([^/]*)", node.value)[0]
      prefix = replace(node.value, "/^s3://[^/]*/?/", "")
    } if node.doc == "ml-parameters" && try(node.schema["x-deploymentBucket"], false) && node.form_ok && node.kind == "string"
  ]
  bucket_problems = [
    for location in local.s3_locations : (
      length(regexall("^<.*>$", location.bucket)) > 0
      ? "${location.path}: \"${location.uri}\" names the placeholder ${location.bucket} of the seed's template; write one of this deployment's buckets (s3_bucket, additional_s3_bucket_names: ${join(", ", local.data_bucket_names)}), or generate the file with smtune init-params --bucket"
      : "${location.path}: bucket \"${location.bucket}\" is not one of this deployment's buckets (s3_bucket, additional_s3_bucket_names: ${join(", ", local.data_bucket_names)}); the roles may use only those"
    ) if !contains(local.data_bucket_names, location.bucket)
  ]

  problems = {
    "ml-parameters"   = concat([for problem in local.keyword_problems : problem.text if problem.doc == "ml-parameters"], local.ml_rule_problems, local.bucket_problems)
    "hyperparameters" = concat([for problem in local.keyword_problems : problem.text if problem.doc == "hyperparameters"], local.hp_rule_problems)
  }
}

# The checks hang on a data source that every plan reads, so they fail the plan before any
# resource is touched.
data "aws_partition" "current" {
  lifecycle {
    precondition {
      condition     = length(local.problems["ml-parameters"]) == 0
      error_message = "${var.ml_parameters_file}: ${length(local.problems["ml-parameters"])} problem(s), checked against lambda_src/tuning_workflow/schemas/ml-parameters.schema.json: ${join("; ", local.problems["ml-parameters"])}."
    }

    precondition {
      condition     = length(local.problems["hyperparameters"]) == 0
      error_message = "${var.hyperparameters_file}: ${length(local.problems["hyperparameters"])} problem(s), checked against lambda_src/tuning_workflow/schemas/hyperparameters.schema.json: ${join("; ", local.problems["hyperparameters"])}."
    }
  }
}

# ---------------------------------------------------------------------------------------------
# What each component uses, read once here and handed on typed. The components get the
# documents as the workflow validates them (JSON) and the names and facts Terraform itself needs;
# each fact is derived once, here, the way tuning_workflow.params derives it.
# ---------------------------------------------------------------------------------------------

locals {
  training_subnets         = try([for id in local.ml.model.trainingSubnets : tostring(id)], [])
  training_security_groups = try([for id in local.ml.model.trainingSecurityGroupIds : tostring(id)], [])
  hosting_subnets          = try([for id in local.ml.model.hosting.subnets : tostring(id)], [])
  hosting_security_groups  = try([for id in local.ml.model.hosting.securityGroupIds : tostring(id)], [])

  facts = {
    # The tuning job gets a WarmStartConfig when warmStart is given.
    has_warm_start = can(local.ml.warmStart)
    # The model gets a VpcConfig when the hosting subnets and security groups are given.
    has_model_vpc = length(local.hosting_subnets) > 0 && length(local.hosting_security_groups) > 0
  }

  # The tuner: its names (they scope its permissions), its facts, both documents.
  tuning = {
    tuning_job_name      = try(tostring(local.ml.tuningJobName), "")
    model_name           = try(tostring(local.ml.model.name), "")
    algorithm_arn        = try(tostring(local.ml.algorithmARN), null)
    has_warm_start       = local.facts.has_warm_start
    has_model_vpc        = local.facts.has_model_vpc
    run_id_wildcard      = local.run_id_wildcard
    ml_parameters_json   = jsonencode(local.ml_parameters)
    hyperparameters_json = jsonencode(local.hyperparameters)
  }

  # The deployer: its endpoint and the alarms a blue/green update watches (they scope its
  # permissions), and ml-parameters.
  hosting = {
    endpoint_name = try(tostring(local.ml.endpointName), "")
    rollback_alarm_names = try(
      [for alarm in local.ml.model.hosting.deploymentConfig.AutoRollbackConfiguration.Alarms : tostring(alarm.AlarmName)], []
    )
    run_id_wildcard    = local.run_id_wildcard
    ml_parameters_json = jsonencode(local.ml_parameters)
    model_name         = try(tostring(local.ml.model.name), "")
    tuning_job_name    = try(tostring(local.ml.tuningJobName), "")
    model_registry = can(local.ml.modelRegistry.modelPackageGroupName) ? {
      group_name   = tostring(local.ml.modelRegistry.modelPackageGroupName)
      approval     = try(tostring(local.ml.modelRegistry.approval), "auto")
      create_group = var.create_model_package_group
    } : null
  }

  # The SageMaker execution role (iam.tf): the images it pulls, whether an algorithm resource
  # names them, the network it joins.
  sagemaker_access = {
    images = compact([
      try(tostring(local.ml.trainingImage), ""),
      try(tostring(local.ml.inferenceImage), ""),
      try(tostring(local.ml.model.hosting.inferenceImage), ""),
    ])
    uses_algorithm     = can(local.ml.algorithmARN)
    subnet_ids         = distinct(concat(local.training_subnets, local.hosting_subnets))
    security_group_ids = distinct(concat(local.training_security_groups, local.hosting_security_groups))
  }

  # The published copy in Parameter Store, as parameter_store_layout says.
  #
  # "document": each file as one parameter, <path>/ml-parameters and <path>/hyperparameters,
  # holding the document as compact JSON (keys sorted; numbers and booleans as the file gives
  # them, strings included).
  published_as_documents = {
    for name, document in local.documents : name => jsonencode(document)
  }

  # "leaves": one value per leaf, the hyperparameters under hyperparameters/. Objects are walked
  # four levels deep (deep enough for every documented field); a list, or an object at the
  # fourth level, is stored as one JSON value. Scalars are stored as text (true, 5000,
  # "ml.c5.2xlarge" -> ml.c5.2xlarge). Null and empty values are skipped: Parameter Store cannot
  # hold an empty value.
  published_documents = try(merge(local.ml_parameters, { hyperparameters = local.hyperparameters }), {})
  published_level1    = [for key, value in local.published_documents : { path = key, value = value }]
  published_level2 = flatten([
    for node in local.published_level1 : [for key, value in node.value : { path = "${node.path}/${key}", value = value }]
    if can(keys(node.value))
  ])
  published_level3 = flatten([
    for node in local.published_level2 : [for key, value in node.value : { path = "${node.path}/${key}", value = value }]
    if can(keys(node.value))
  ])
  published_level4 = flatten([
    for node in local.published_level3 : [for key, value in node.value : { path = "${node.path}/${key}", value = value }]
    if can(keys(node.value))
  ])
  published_as_leaves = {
    for leaf in concat(
      [for leaf in local.published_level1 : leaf if !can(keys(leaf.value))],
      [for leaf in local.published_level2 : leaf if !can(keys(leaf.value))],
      [for leaf in local.published_level3 : leaf if !can(keys(leaf.value))],
      local.published_level4,
    ) : leaf.path => try(tostring(leaf.value), jsonencode(leaf.value))
    if leaf.value != null && leaf.value != ""
  }

  published_parameters = tomap(
    var.parameter_store_layout == "leaves" ? local.published_as_leaves : local.published_as_documents
  )
  # What each parameter is published from, as a size error names it.
  published_sources = {
    for key in keys(local.published_parameters) : key => (
      var.parameter_store_layout == "leaves"
      ? "$.${replace(trimprefix(key, "hyperparameters/"), "/", ".")} of ${startswith(key, "hyperparameters/") ? var.hyperparameters_file : var.ml_parameters_file}; shorten it in the file"
      : "the whole of ${local.document_files[key]} as JSON; shorten the file, or publish one parameter per value with parameter_store_layout = \"leaves\""
    )
  }
}
