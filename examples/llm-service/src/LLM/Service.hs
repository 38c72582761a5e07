-- | The public face of the service: re-exports the vocabulary and offers the
-- handful of calls the HTTP layer uses.
module LLM.Service
  ( module LLM.Types
  , Config
  , defaultConfig
  , handle
  , Outcome (..)
  , outcomeText
  ) where

import qualified Data.Map.Strict as Map

import LLM.Config (Config, defaultConfig, limitFor, Limits (..))
import LLM.Pricing (costOf)
import LLM.Router
import LLM.Types

data Outcome
  = Answered LLMKind Usage Budget
  | Rejected RouteError
  | Throttled LLMKind Int
  deriving (Show, Eq)

-- | Route a request and charge for a (simulated) call of the chosen model.
handle :: Config -> Budget -> Int -> Request -> Outcome
handle config spent callsThisMinute request =
  case route config spent request of
    Left err -> Rejected err
    Right Decision { chosen = kind }
      | Limits perMinute _ <- limitFor config kind
      , callsThisMinute >= perMinute -> Throttled kind perMinute
      | otherwise ->
          let usage = Usage (promptTokens request) (maxTokens request)
          in Answered kind usage (costOf kind usage)

promptTokens :: Request -> Tokens
promptTokens req = Tokens (sum [ length text `div` 4 | _ :> text <- requestMessages req ])

outcomeText :: Outcome -> String
outcomeText outcome = case outcome of
  Answered Haiku _ cost -> "answered cheaply ($" ++ show cost ++ ")"
  Answered kind usage cost ->
    modelName kind ++ " used " ++ show (totalTokens usage) ++ " tokens ($" ++ show cost ++ ")"
  Rejected err -> explainError Map.empty err
  Throttled kind n -> modelName kind ++ " is limited to " ++ show n ++ " calls a minute"
