output "client_config" {
  description = "What the client and CLI need (stepstream --outputs, or StepstreamClient)."
  value       = module.stepstream.client_config
}

output "writer_policy_json" {
  description = "The IAM policy anything else that writes results needs."
  value       = module.stepstream.writer_policy_json
}

output "caller_policy_json" {
  description = "The IAM policy of an identity that starts runs and reads their streams."
  value       = module.stepstream.caller_policy_json
}

output "state_machine_definition" {
  description = "The ASL as deployed."
  value       = module.stepstream.state_machine_definition
}
