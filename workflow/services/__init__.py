from workflow.services.campaigns import campaign_open

__all__ = ["campaign_open"]
