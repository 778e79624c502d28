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

  # SageMaker names: the run adds a 13-character suffix ("-" and a 12-digit run id) to the
  # tuning job (32 characters at most), to the model (63) and, as the endpoint config's name, to
  # the endpoint name (63); the endpoint itself keeps the name as is.
  sagemaker_name_pattern = "^[a-zA-Z0-9](-*[a-zA-Z0-9])*$"
  name_limits = {
    "$.tuningJobName" = { value = try(tostring(local.ml_parameters.tuningJobName), null), max = 19 }
    "$.endpointName"  = { value = try(tostring(local.ml_parameters.endpointName), null), max = 50 }
    "$.model.name"    = { value = try(tostring(local.ml_model.name), null), max = 50 }
  }
  # A missing name is reported as a missing field, not here.
  names_to_check = { for field, name in local.name_limits : field => name if name.value != null }
  name_problems = [
    for field, name in local.names_to_check :
    "${field} is \"${name.value}\" (${length(name.value)} characters): it must be at most ${name.max} letters, digits and hyphens, starting and ending with a letter or digit"
    if length(name.value) > name.max || !can(regex(local.sagemaker_name_pattern, name.value))
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
