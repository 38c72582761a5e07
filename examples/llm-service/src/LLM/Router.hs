{-# LANGUAGE LambdaCase #-}

-- | Chooses a model for each request and decides what to do when a call fails.
module LLM.Router
  ( RouteError (..)
  , Decision (..)
  , route
  , routeAll
  , retryPolicy
  , escalate
  , systemPrompt
  , explainError
  ) where

import Prelude hiding (lookup)

import Data.Map.Strict (Map, lookup)
import qualified Data.Map.Strict as M

import LLM.Config
import LLM.Pricing (Priced (..), cheapest)
import LLM.Types

data RouteError
  = Disabled LLMKind
  | OverBudget Budget
  | TooLong Tokens Tokens
  | NoModel
  deriving (Show, Eq)

-- | Where a request goes, and what to fall back to.
data Decision = Decision
  { chosen :: LLMKind
  , backup :: Maybe LLMKind
  , estimate :: Budget
  } deriving (Show, Eq)

-- | Route one request, given what has been spent today.
route :: Config -> Budget -> Request -> Either RouteError Decision
route config spent request =
  case (requestKind request, requestTier request) of
    (Just kind, _) -> decide kind
    (Nothing, Fast) -> decide Haiku
    (Nothing, tier) -> maybe (Left NoModel) decide (pickFor tier)
  where
    decide kind
      | not (isEnabled config kind) = Left (Disabled kind)
      | spent + price kind > dailyBudget config = Left (OverBudget (dailyBudget config - spent))
      | maxTokens request > contextWindow kind = Left (TooLong (maxTokens request) (contextWindow kind))
      | otherwise = Right Decision
          { chosen = kind
          , backup = fallbackFor config kind
          , estimate = price kind
          }
    price kind = fromIntegral (getTokens (maxTokens request)) * outputPrice kind / 1000000
    pickFor tier = cheapest (filter (fits tier) allKinds)
    fits tier kind = case kind of
      Haiku -> tier == Fast
      Sonnet -> tier /= Deep
      Opus -> True

-- | Route a batch; stops counting spend on the first error.
routeAll :: Config -> [Request] -> [Either RouteError Decision]
routeAll config = go 0
  where
    go _ [] = []
    go spent (r : rest) = case route config spent r of
      Right d -> Right d : go (spent + estimate d) rest
      Left err -> Left err : go spent rest

-- | How many times to retry a failed call on each model.
retryPolicy :: LLMKind -> Int
retryPolicy = \case
  Opus -> 1
  other -> if other == Haiku then 5 else 3

-- | The next model up when the answer was not good enough.
escalate :: LLMKind -> Maybe LLMKind
escalate Haiku = Just Sonnet
escalate Sonnet = Just Opus
escalate _ = Nothing

-- | The system prompt of a conversation, if its first message is one.
systemPrompt :: [Message] -> Maybe String
systemPrompt ((System :> text) : _) = Just text
systemPrompt _ = Nothing

explainError :: Map LLMKind String -> RouteError -> String
explainError notes = \case
  Disabled kind -> modelName kind ++ " is disabled" ++ note kind
  OverBudget left -> "only $" ++ show left ++ " left today"
  TooLong asked window -> "asked for " ++ show asked ++ " tokens, window is " ++ show window
  NoModel -> "no model fits" ++ (if M.null notes then "" else " (see notes)")
  where
    note kind = maybe "" (" - " ++) (lookup kind notes)
