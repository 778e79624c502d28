# ---------------------------------------------------------------------------------------------
# Parameter documents: read at plan time, rendered into the workflows and published to SSM.
#
# What Terraform can check it checks here, so that a bad file fails `terraform plan` with a
# message naming the field. The JSON Schemas in lambda_src/ stay the one definition of valid
# input: the required fields and the tuning strategies are read from them, and the workflow's
# first state validates everything else with jsonschema.
# ---------------------------------------------------------------------------------------------

locals {
  schema_dir            = "${path.module}/lambda_src/tuning_workflow/schemas"
  ml_parameter_schema   = jsondecode(file("${local.schema_dir}/ml-parameters.schema.json"))
  hyperparameter_schema = jsondecode(file("${local.schema_dir}/hyperparameters.schema.json"))

  # The variables' validations report a missing file or invalid JSON; these fallbacks keep
  # every other expression quiet meanwhile.
  ml_parameters   = try(jsondecode(file(var.ml_parameters_file)), {})
  hyperparameters = try(jsondecode(file(var.hyperparameters_file)), {})

  ml_model   = try(local.ml_parameters.model, {})
  ml_hosting = try(local.ml_parameters.model.hosting, {})

  missing_ml_fields = concat(
    [for key in local.ml_parameter_schema.required : "$.${key}" if try(local.ml_parameters[key], null) == null],
    can(keys(local.ml_model)) ? [
      for key in local.ml_parameter_schema.properties.model.required : "$.model.${key}"
      if try(local.ml_model[key], null) == null
    ] : [],
    can(keys(local.ml_hosting)) ? [
      for key in local.ml_parameter_schema.properties.model.properties.hosting.required : "$.model.hosting.${key}"
      if try(local.ml_hosting[key], null) == null
    ] : [],
  )
  missing_hyperparameter_fields = [
    for key in try(local.hyperparameter_schema.required, []) : "$.${key}"
    if try(local.hyperparameters[key], null) == null
  ]

  tuning_strategies = local.ml_parameter_schema.properties.tuningStrategy.enum
  tuning_strategy   = try(tostring(local.ml_parameters.tuningStrategy), null)

  # SageMaker's name limits and the run suffix, from the schema (x-sagemakerNames): a run names
  # its tuning job, model and endpoint configs <base>-<runId>, so a base name may be at most
  # SageMaker's limit minus the suffix ("-" and the run id's hex digits). Each name field says
  # which names it becomes; its limit is the tightest of them.
  sagemaker_names   = local.ml_parameter_schema["x-sagemakerNames"]
  run_suffix_length = 1 + local.sagemaker_names.runIdLength
  # IAM's wildcard for a run id: one "?" per hex digit.
  run_id_wildcard        = join("", [for digit in range(local.sagemaker_names.runIdLength) : "?"])
  sagemaker_name_pattern = local.ml_parameter_schema["$defs"].name.pattern
  name_fields = {
    "$.tuningJobName" = { value = try(tostring(local.ml_parameters.tuningJobName), null), schema = local.ml_parameter_schema.properties.tuningJobName }
    "$.endpointName"  = { value = try(tostring(local.ml_parameters.endpointName), null), schema = local.ml_parameter_schema.properties.endpointName }
    "$.model.name"    = { value = try(tostring(local.ml_model.name), null), schema = local.ml_parameter_schema.properties.model.properties.name }
  }
  name_limits = {
    for field, name in local.name_fields : field => {
      value = name.value
      # The tightest of the names it becomes, and why.
      limits = [
        for use in name.schema["x-sagemakerNames"] : {
          max = local.sagemaker_names.resources[use.resource].maxLength - (use.runSuffix ? local.run_suffix_length : 0)
          why = (
            use.runSuffix
            ? "a run names its ${local.sagemaker_names.resources[use.resource].noun} '<name>-<runId>', ${local.run_suffix_length} characters more, and SageMaker allows ${local.sagemaker_names.resources[use.resource].maxLength}"
            : "SageMaker allows ${local.sagemaker_names.resources[use.resource].maxLength} in a ${local.sagemaker_names.resources[use.resource].noun} name"
          )
        }
      ]
    }
  }
  name_maxima = {
    for field, name in local.name_limits : field => [
      for limit in name.limits : limit if limit.max == min([for l in name.limits : l.max]...)
    ][0]
  }
  # A missing name is reported as a missing field, not here.
  name_problems = [
    for field, name in local.name_limits :
    "${field} is \"${name.value}\" (${length(name.value)} characters): it must be at most ${local.name_maxima[field].max} letters, digits and hyphens, starting and ending with a letter or digit (${local.name_maxima[field].why}; x-sagemakerNames in ml-parameters.schema.json)"
    if name.value != null && (length(coalesce(name.value, "-")) > local.name_maxima[field].max || !can(regex(local.sagemaker_name_pattern, coalesce(name.value, "-"))))
  ]
}

# The checks hang on a data source that every plan reads, so they fail the plan before any
# resource is touched.
data "aws_partition" "current" {
  lifecycle {
    precondition {
      condition     = can(keys(local.ml_parameters)) && can(keys(local.hyperparameters))
      error_message = "The parameter files must each hold one JSON object: ${var.ml_parameters_file}, ${var.hyperparameters_file}."
    }

    precondition {
      condition     = length(local.missing_ml_fields) == 0
      error_message = "${var.ml_parameters_file}: missing required field(s): ${join(", ", local.missing_ml_fields)}."
    }

    precondition {
      condition     = length(local.missing_hyperparameter_fields) == 0
      error_message = "${var.hyperparameters_file}: missing required field(s): ${join(", ", local.missing_hyperparameter_fields)}."
    }

    precondition {
      condition     = local.tuning_strategy == null || contains(local.tuning_strategies, coalesce(local.tuning_strategy, "-"))
      error_message = "${var.ml_parameters_file}: $.tuningStrategy is \"${local.tuning_strategy == null ? "" : local.tuning_strategy}\"; allowed values: ${join(", ", local.tuning_strategies)}."
    }

    precondition {
      condition     = length(local.name_problems) == 0
      error_message = "${var.ml_parameters_file}: ${join("; ", local.name_problems)}."
    }
  }
}
